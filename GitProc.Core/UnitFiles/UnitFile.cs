namespace GitProc.UnitFiles;

/// <summary>
/// One parsed <c>NAME.service</c> unit file. Immutable: a changed file is a new instance.
/// Fields of the original reference keep their names (<see cref="Name"/>, <see cref="ExecStart"/>,
/// <see cref="Restart"/>, <see cref="User"/>, <see cref="Environment"/>, <see cref="MemoryLimit"/>,
/// <see cref="CpuQuota"/>, <see cref="HealthCheckUrl"/>, <see cref="HealthCheckInterval"/>, <see cref="After"/>);
/// every other key GitProc acts on is typed here, and everything in the file is kept in <see cref="Sections"/>.
/// </summary>
public sealed record UnitFile
{
    /// <summary>The service name: the file name without <c>.service</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The file name as given to the parser (used in messages).</summary>
    public required string FileName { get; init; }

    /// <summary><c>[Unit] Description</c>; <see langword="null"/> when absent.</summary>
    public string? Description { get; init; }

    /// <summary>
    /// <c>[Unit] After</c>: services started (and running) before this one, in order of first mention, without
    /// duplicates. Service names lose their <c>.service</c> suffix; other units (<c>network.target</c>) keep theirs,
    /// and specifiers (<c>%i</c>) are kept as written.
    /// </summary>
    public IReadOnlyList<string> After { get; init; } = [];

    /// <summary><c>[Unit] Requires</c>: like <see cref="After"/>, and a missing or failing dependency fails this service. Names as in <see cref="After"/>.</summary>
    public IReadOnlyList<string> Requires { get; init; } = [];

    /// <summary><c>[Unit] Wants</c>: started along with this service, without ordering or failing. Names as in <see cref="After"/>.</summary>
    public IReadOnlyList<string> Wants { get; init; } = [];

    /// <summary><c>[Unit] StartLimitBurst</c>: starts allowed within <see cref="StartLimitInterval"/>. Default 5.</summary>
    public int StartLimitBurst { get; init; } = 5;

    /// <summary><c>[Unit] StartLimitIntervalSec</c>. Default 10 s; <see cref="TimeSpan.Zero"/> disables the limit.</summary>
    public TimeSpan StartLimitInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <c>[Unit] ConditionHost</c>: the hosts the unit runs on, in file order (an empty assignment of any <c>Condition…=</c>
    /// key clears the list, as in systemd). Every condition without <see cref="HostCondition.Triggering"/> must hold, and
    /// when some have it, one of those too; elsewhere the service is not started and shows <c>stopped</c> with sub-state
    /// <c>condition</c>. Empty (the default): every host.
    /// </summary>
    public IReadOnlyList<HostCondition> ConditionHost { get; init; } = [];

    /// <summary><c>[Service] Type</c>. Default <see cref="ServiceType.Simple"/>.</summary>
    public ServiceType Type { get; init; } = ServiceType.Simple;

    /// <summary>The first <c>ExecStart</c> command line as written, prefixes removed (the original reference's field).</summary>
    public string ExecStart => ExecStartCommands.Count > 0 ? ExecStartCommands[0].CommandLine : string.Empty;

    /// <summary>Every <c>ExecStart</c> command, split into argv (several only for oneshot services).</summary>
    public IReadOnlyList<UnitCommand> ExecStartCommands { get; init; } = [];

    /// <summary><c>ExecStartPre</c> commands, run in order before the main command.</summary>
    public IReadOnlyList<UnitCommand> ExecStartPre { get; init; } = [];

    /// <summary><c>ExecStartPost</c> commands, run in order once the main command has started.</summary>
    public IReadOnlyList<UnitCommand> ExecStartPost { get; init; } = [];

    /// <summary><c>ExecStop</c> commands, run in order before the stop signal is sent.</summary>
    public IReadOnlyList<UnitCommand> ExecStop { get; init; } = [];

    /// <summary><c>ExecReload</c> commands, run by <c>gitproc reload</c> with <c>$MAINPID</c> set.</summary>
    public IReadOnlyList<UnitCommand> ExecReload { get; init; } = [];

    /// <summary>
    /// <c>ExecStopPost</c> commands, run in order once the service has stopped, whatever the reason (a stop, a crash, a
    /// failed start), with <c>$SERVICE_RESULT</c>, <c>$EXIT_CODE</c> and <c>$EXIT_STATUS</c> set as systemd sets them.
    /// A failure is logged, never fatal.
    /// </summary>
    public IReadOnlyList<UnitCommand> ExecStopPost { get; init; } = [];

    /// <summary>
    /// <c>[Service] RemainAfterExit</c>: a oneshot service whose commands succeeded stays active (status running,
    /// sub-state <c>exited</c>, no PID), so a dependent starting again does not run it again. Default <see langword="false"/>.
    /// </summary>
    public bool RemainAfterExit { get; init; }

    /// <summary>
    /// <c>[Service] OOMPolicy</c>: what an OOM kill of any process in the service's cgroup does. Default
    /// <see cref="UnitFiles.OomPolicy.Stop"/>.
    /// </summary>
    public OomPolicy OomPolicy { get; init; } = OomPolicy.Stop;

    /// <summary>
    /// <c>[Service] ReloadSignal</c> as a signal number: what <c>gitproc reload</c> sends to the main process of a unit
    /// without <c>ExecReload=</c>; <see langword="null"/> when not set (such a unit cannot be reloaded).
    /// </summary>
    public int? ReloadSignal { get; init; }

    /// <summary><c>[Service] Restart</c>. Default <see cref="RestartPolicy.No"/>.</summary>
    public RestartPolicy Restart { get; init; } = RestartPolicy.No;

    /// <summary><c>[Service] RestartSec</c>. Default 100 ms.</summary>
    public TimeSpan RestartSec { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary><c>[Service] RestartSteps</c>: steps from <see cref="RestartSec"/> to <see cref="RestartMaxDelay"/>. Default 0 (no growth).</summary>
    public int RestartSteps { get; init; }

    /// <summary><c>[Service] RestartMaxDelaySec</c>; <see langword="null"/> means infinity (the default).</summary>
    public TimeSpan? RestartMaxDelay { get; init; }

    /// <summary>
    /// <c>[Service] TimeoutStopSec</c> (or <c>TimeoutSec</c>): time between the stop signal and SIGKILL. Default 10 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> for <c>infinity</c> or <c>0</c>, which disable the timeout as in systemd.
    /// </summary>
    public TimeSpan TimeoutStop { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <c>[Service] TimeoutStartSec</c> (or <c>TimeoutSec</c>): how long a <c>Type=notify</c> service may take to send
    /// <c>READY=1</c>, and each <c>ExecStartPre=</c>/<c>ExecStartPost=</c> command to finish. Default 90 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> for <c>infinity</c> or <c>0</c>.
    /// </summary>
    public TimeSpan TimeoutStart { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// <c>[Service] NotifyAccess</c>: who may notify. Default <see cref="UnitFiles.NotifyAccess.Main"/> for
    /// <c>Type=notify</c> or a unit with <see cref="Watchdog"/>, else <see cref="UnitFiles.NotifyAccess.None"/>
    /// (see <see cref="EffectiveNotifyAccess"/>).
    /// </summary>
    public NotifyAccess? NotifyAccess { get; init; }

    /// <summary><see cref="NotifyAccess"/> as written, else its default for the unit's type and watchdog.</summary>
    public NotifyAccess EffectiveNotifyAccess =>
        NotifyAccess ?? (Type == ServiceType.Notify || Watchdog is not null ? UnitFiles.NotifyAccess.Main : UnitFiles.NotifyAccess.None);

    /// <summary>
    /// <c>[Service] WatchdogSec</c>: once running, the service must send <c>WATCHDOG=1</c> at least this often, or it is
    /// killed with SIGABRT and its result is <c>watchdog</c>. <see langword="null"/> (the default, or <c>0</c>) for no watchdog.
    /// </summary>
    public TimeSpan? Watchdog { get; init; }

    /// <summary>
    /// <c>[Service] PIDFile</c>: for <c>Type=forking</c>, the file the daemon writes its main PID to, as written
    /// (specifiers such as <c>%i</c> are expanded when it is read; a relative path is under <c>/run/</c>).
    /// <see langword="null"/> (the default) guesses the main PID from the service's cgroup.
    /// </summary>
    public string? PidFile { get; init; }

    /// <summary>
    /// <c>[Service] GuessMainPID</c>: for <c>Type=forking</c> without <see cref="PidFile"/>, whether the main PID is
    /// guessed from the processes left in the service's cgroup. Default <see langword="true"/>; without a guess the
    /// service runs while its cgroup has processes.
    /// </summary>
    public bool GuessMainPid { get; init; } = true;

    /// <summary><c>[Service] KillSignal</c> as a signal number. Default 15 (SIGTERM).</summary>
    public int KillSignal { get; init; } = 15;

    /// <summary><c>[Service] KillMode</c>: which processes a stop signals. Default <see cref="UnitFiles.KillMode.ControlGroup"/>.</summary>
    public KillMode KillMode { get; init; } = KillMode.ControlGroup;

    /// <summary><c>[Service] User</c>; <see langword="null"/> runs as the daemon's user.</summary>
    public string? User { get; init; }

    /// <summary><c>[Service] Group</c>; <see langword="null"/> uses the user's primary group.</summary>
    public string? Group { get; init; }

    /// <summary><c>[Service] WorkingDirectory</c>; <see langword="null"/> uses the repository's directory of unit files.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// <c>[Service] WorkingDirectory</c> was written with a leading <c>-</c>: a missing directory is not an error
    /// (systemd's meaning). The <c>-</c> is not part of <see cref="WorkingDirectory"/>.
    /// </summary>
    public bool WorkingDirectoryOptional { get; init; }

    /// <summary><c>[Service] Environment</c> assignments, later ones winning; values kept as written (<c>$VAR</c>, <c>%i</c>).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary><c>[Service] EnvironmentFile</c> references, in order.</summary>
    public IReadOnlyList<EnvironmentFileReference> EnvironmentFiles { get; init; } = [];

    /// <summary><c>MemoryMax</c> (or its alias <c>MemoryLimit</c>) in bytes; <see langword="null"/> for none or <c>infinity</c>.</summary>
    public long? MemoryLimit { get; init; }

    /// <summary><c>CPUQuota</c> in percent of one CPU (may exceed 100); <see langword="null"/> for none.</summary>
    public int? CpuQuota { get; init; }

    /// <summary><c>TasksMax</c>; <see langword="null"/> for none or <c>infinity</c>.</summary>
    public long? TasksMax { get; init; }

    /// <summary>
    /// <c>LimitNOFILE</c>: the service's open-file limit; <see langword="null"/> gives it the daemon's soft limit at
    /// start (never the raised limit the daemon runs with) and the daemon's hard limit.
    /// </summary>
    public ProcessLimit? LimitNOFILE { get; init; }

    /// <summary><c>HealthCheckURL</c>; <see langword="null"/> when the service has no health check.</summary>
    public Uri? HealthCheckUrl { get; init; }

    /// <summary><c>HealthCheckInterval</c>. Default 30 s.</summary>
    public TimeSpan HealthCheckInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>HealthCheckTimeout</c>. Default 5 s.</summary>
    public TimeSpan HealthCheckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>HealthCheckRetries</c>: consecutive failures before the service is unhealthy. Default 3.</summary>
    public int HealthCheckRetries { get; init; } = 3;

    /// <summary>
    /// <c>[Service] LogRateLimitIntervalSec</c>: the interval of the service's log rate limit (journald's rule: at most
    /// <see cref="LogRateLimitBurst"/> lines are stored per interval, the rest dropped and counted in one marker line).
    /// Default <see cref="TimeSpan.Zero"/>: no limit.
    /// </summary>
    public TimeSpan LogRateLimitInterval { get; init; }

    /// <summary>
    /// <c>[Service] LogRateLimitBurst</c>: log lines stored per <see cref="LogRateLimitInterval"/>. Default 0: no limit.
    /// </summary>
    public int LogRateLimitBurst { get; init; }

    /// <summary>
    /// Every section and key as written (section name → key → values in order of assignment, empty assignments
    /// included, values trimmed and joined across continuation lines), including the ones GitProc does not act on.
    /// Section names and keys are case-sensitive, as in systemd.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>> Sections { get; init; }
        = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>();

    /// <summary>
    /// Non-fatal findings, each with its line: unknown sections and keys, settings accepted but not acted on
    /// (<c>Type=dbus</c>, Exec prefixes other than <c>-</c>), ignored <c>Environment=</c> words.
    /// </summary>
    public IReadOnlyList<UnitFileWarning> Warnings { get; init; } = [];

    /// <summary>
    /// The line where each dependency was first named, by key (<c>After</c>, <c>Requires</c>, <c>Wants</c>) and name as
    /// in <see cref="After"/>, so that a dependency error can point at its line.
    /// </summary>
    internal IReadOnlyDictionary<(string Key, string Name), int> DependencyLines { get; init; } = new Dictionary<(string Key, string Name), int>();
}
