using GitProc.Health;
using GitProc.State;

namespace GitProc.Supervision;

/// <summary>
/// One service as users see it at one moment: its <see cref="ServiceStatus"/> (the one word for whether it runs), sub-state,
/// process, restarts and health. What <c>gitproc status NAME</c> shows; the state file keeps a
/// <see cref="ServiceRecord"/> of it.
/// </summary>
public sealed record ServiceSnapshot
{
    /// <summary>The service name.</summary>
    public required string Name { get; init; }

    /// <summary><c>running</c>, <c>stopped</c> or <c>failed</c>.</summary>
    public required ServiceStatus Status { get; init; }

    /// <summary>
    /// More detail: <c>starting</c>, <c>running</c>, <c>stopping</c>, <c>auto-restart</c> (waiting to restart),
    /// <c>exited</c> (a oneshot that succeeded), <c>stopping</c>/<c>reloading</c> (a running service said <c>STOPPING=1</c>/<c>RELOADING=1</c>), <c>dead</c> (stopped), <c>failed</c>, <c>start-limit-hit</c>,
    /// <c>dependency-failed</c>, <c>condition</c> (stopped: the unit's <c>ConditionHost=</c> is not met on this host, see
    /// <see cref="UnmetCondition"/>), <c>waiting-for-resources</c> (the daemon is short of file descriptors or memory; the
    /// start is retried, and <see cref="FailureReason"/> says why).
    /// </summary>
    public required string SubState { get; init; }

    /// <summary>
    /// Why the unit does not run on this host: its <c>ConditionHost=</c> is not met (<c>ConditionHost=db-* is not met on
    /// host web-1</c>); the service is then stopped with sub-state <c>condition</c>. <see langword="null"/> when it runs here.
    /// </summary>
    public string? UnmetCondition { get; init; }

    /// <summary>The unit's description, if any.</summary>
    public string? Description { get; init; }

    /// <summary>The main process's pid while running.</summary>
    public int? Pid { get; init; }

    /// <summary>When the current (or last) process was started.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>Automatic restarts (crash, unhealthy) since the daemon first started the service.</summary>
    public int RestartCount { get; init; }

    /// <summary>The last exit code (128 + signal when a signal ended it), when known.</summary>
    public int? LastExitCode { get; init; }

    /// <summary>How the last process ended, in words ("killed by signal 9"), when known.</summary>
    public string? LastExit { get; init; }

    /// <summary>Why the service is failed, when it is.</summary>
    public string? FailureReason { get; init; }

    /// <summary>An operator stopped it; it stays stopped until started or its unit changes.</summary>
    public bool ManuallyStopped { get; init; }

    /// <summary>The service runs in its own cgroup, so its limits (if any) are enforced and a stop reaches every process.</summary>
    public bool LimitsEnforced { get; init; }

    /// <summary>Why limits the unit asks for are not enforced (no cgroups here), when that is the case.</summary>
    public string? LimitsNote { get; init; }

    /// <summary>The health check's verdict, when the unit has one.</summary>
    public HealthReport? Health { get; init; }

    /// <summary>Memory in use by the service's cgroup, in bytes (filled by <see cref="ISupervisor.GetStatusAsync"/>).</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>Total CPU time used by the service's cgroup (filled by <see cref="ISupervisor.GetStatusAsync"/>).</summary>
    public TimeSpan? CpuTime { get; init; }

    /// <summary>Recent CPU use, in percent of one CPU (filled by <see cref="ISupervisor.GetStatusAsync"/>).</summary>
    public double? CpuPercent { get; init; }

    /// <summary>Tasks (processes and threads) in the service's cgroup (filled by <see cref="ISupervisor.GetStatusAsync"/>).</summary>
    public long? TaskCount { get; init; }

    /// <summary>The service's last <c>STATUS=</c> notification (sd_notify(3)) since it started, if any.</summary>
    public string? StatusText { get; init; }

    /// <summary>
    /// Why the supervisor's state could not be saved (disk full, read-only), while saving fails; <see langword="null"/>
    /// when the state on disk is current. It concerns every service: what an operator changes now may not survive a
    /// daemon restart, and commands that must be saved first are refused.
    /// </summary>
    public string? StateError { get; init; }

    /// <summary>Since when saving the state has been failing, with <see cref="StateError"/>.</summary>
    public DateTimeOffset? StateErrorSince { get; init; }
}
