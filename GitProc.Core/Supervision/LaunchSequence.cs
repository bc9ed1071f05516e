using GitProc.Logs;
using GitProc.Processes;
using GitProc.Readiness;
using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>
/// One service's launch sequence: ExecStartPre=, the main process (or a oneshot's commands), the hand-off to readiness
/// (<c>Type=notify</c>'s READY=1, <c>Type=forking</c>'s daemon, <c>WatchdogSec=</c>), ExecStartPost=; and the launches of
/// its other commands (ExecStop=, ExecReload=, ExecStopPost=) with the service's cgroup, notification socket and
/// variables. What the sequence finds out it reports to its <see cref="ILaunchObserver"/> (the
/// <see cref="ServiceController"/>), which decides what it means for the service's state.
/// </summary>
/// <remarks>
/// Runs under the controller's gate (one launch at a time); only <see cref="AbortPendingStart"/> is called outside it.
/// </remarks>
internal sealed class LaunchSequence
{
    // SIGABRT: what the watchdog kills a service with (systemd's default WatchdogSignal=).
    private const int SignalAbort = 6;

    // systemd's EXIT_EXEC: the status a service gets when its program could not be executed.
    private const int ExitExec = 203;

    private readonly SupervisorContext _context;
    private readonly string _service;
    private readonly CgroupLease _cgroup;
    private readonly ILaunchObserver _observer;

    // The notification socket and what the service said through it (NOTIFY_SOCKET; Type=notify, WatchdogSec=), kept
    // across automatic restarts like the cgroup. See Readiness/.
    private ServiceNotifications? _notify;

    // Cancelled by a stop while a Type=notify or Type=forking start waits, so the stop need not wait for the start timeout.
    private CancellationTokenSource? _startAbort;

    public LaunchSequence(SupervisorContext context, string service, CgroupLease cgroup, ILaunchObserver observer)
    {
        _context = context;
        _service = service;
        _cgroup = cgroup;
        _observer = observer;
    }

    /// <summary>The service's notification socket while it has one (Linux only).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public ServiceNotifications? Notifications => Volatile.Read(ref _notify);

    /// <summary>
    /// Whether the last <see cref="RunAsync"/> never got its main process running (or its ExecStartPost= failed): a failed
    /// start, as opposed to a service that started and then ended.
    /// </summary>
    public bool LastLaunchFailed { get; private set; }

    /// <summary>
    /// Runs ExecStartPre, starts the main process (or runs a oneshot's commands), runs ExecStartPost.
    /// Returns how the attempt ends: the main process's exit task, or an already known ending.
    /// </summary>
    public async Task<Task<ProcessExit>> RunAsync(UnitFile unit, int generation)
    {
        var began = _context.Time.GetTimestamp();
        LastLaunchFailed = true;
        _cgroup.BeginRun();
        try
        {
            await _cgroup.AcquireAsync(unit).ConfigureAwait(false);
        }
        catch (GitProcException ex) when (ResourceShortage.Is(ex))
        {
            return ShortOfResources(ex.Message);
        }

        if (OperatingSystem.IsLinux() && unit.Type == ServiceType.Forking && ForkingStart.Unsupported(unit, _cgroup.Cgroup, _cgroup.LimitsNote) is { } unsupported)
        {
            _observer.Failed(generation, unsupported);
            _context.Logger.ServiceStartFailed(_service, unsupported);
            return Task.FromResult(new ProcessExit(ExitExec, null) { Protocol = unsupported });
        }

        if (OpenNotifications(unit) is { } notifyFailure)
        {
            _observer.Failed(generation, notifyFailure);
            return Task.FromResult(new ProcessExit(ExitExec, null));
        }

        var pre = await RunCommandsAsync(unit, unit.ExecStartPre, unit.TimeoutStart, "ExecStartPre").ConfigureAwait(false);
        if (pre is not null)
        {
            return Task.FromResult(pre);
        }

        if (unit.Type == ServiceType.Oneshot)
        {
            _observer.Started(generation, process: null, began);
            var main = await RunCommandsAsync(unit, unit.ExecStartCommands, Timeout.InfiniteTimeSpan, "ExecStart").ConfigureAwait(false);
            if (main is not null)
            {
                return Task.FromResult(main);
            }

            var post = await RunCommandsAsync(unit, unit.ExecStartPost, unit.TimeoutStart, "ExecStartPost").ConfigureAwait(false);
            return Task.FromResult(post ?? new ProcessExit(0, null));
        }

        IServiceProcess process;
        try
        {
            process = await _context.Processes.StartAsync(Launch(unit, unit.ExecStartCommands[0], main: true)).ConfigureAwait(false);
        }
        catch (ProcessStartException ex) when (ex.IsResourceShortage)
        {
            return ShortOfResources(ex.Message);
        }
        catch (ProcessStartException ex)
        {
            _observer.Failed(generation, ex.Message);
            _context.Logger.ServiceStartFailed(_service, ex.Message);
            return Task.FromResult(new ProcessExit(ExitExec, null));
        }

        if (unit.Type == ServiceType.Forking && OperatingSystem.IsLinux())
        {
            var (daemon, ending) = await AwaitForkedAsync(generation, unit, process).ConfigureAwait(false);
            if (daemon is null)
            {
                return ending!;
            }

            process = daemon;
        }

        if (await AwaitReadyAsync(generation, unit, process).ConfigureAwait(false) is { } notReady)
        {
            return notReady;
        }

        _observer.Started(generation, process, began);
        LastLaunchFailed = false;
        ArmWatchdog(unit, process);

        var postFailure = await RunCommandsAsync(unit, unit.ExecStartPost, unit.TimeoutStart, "ExecStartPost").ConfigureAwait(false);
        if (postFailure is not null)
        {
            // systemd fails the start when ExecStartPost fails, and stops what was started.
            LastLaunchFailed = true;
            await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
            return Task.FromResult(postFailure);
        }

        // A main PID named with MAINPID= is the one whose end is the service's.
        return OperatingSystem.IsLinux() && _notify is { } notify ? notify.FollowMainAsync(process.Exited) : process.Exited;
    }

    /// <summary>
    /// Opens the service's notification socket (once; kept across automatic restarts) when it has one — a
    /// <c>Type=notify</c> service, a <c>WatchdogSec=</c>, or a <c>NotifyAccess=</c> other than none — and begins a new
    /// launch on it. Returns why the socket could not be made, or null.
    /// </summary>
    private string? OpenNotifications(UnitFile unit)
    {
        if (!OperatingSystem.IsLinux() || unit.EffectiveNotifyAccess == NotifyAccess.None || _context.Notify is not { } directory)
        {
            if (unit.Type == ServiceType.Notify && _context.Notify is null)
            {
                _context.Logger.ServiceFailed(_service, "Type=notify needs the daemon's notification sockets, which this supervisor has none of; it runs as Type=simple");
            }

            CloseNotifications();
            return null;
        }

        try
        {
            _notify ??= new ServiceNotifications(unit, directory, _context.Time, _context.Logger, _observer.Changed);
        }
        catch (IOException ex)
        {
            return ex.Message;
        }

        _notify.Begin(unit, _cgroup.Cgroup);
        return null;
    }

    public void CloseNotifications()
    {
        if (OperatingSystem.IsLinux() && Interlocked.Exchange(ref _notify, null) is { } notify)
        {
            notify.Dispose();
        }
    }

    /// <summary>
    /// For <c>Type=notify</c>: the main process runs, and the start completes only once it sends <c>READY=1</c>
    /// (<c>gitproc start</c> returns, the state becomes running, dependents start). Returns null when it did; else how
    /// the attempt ends: the main process exited first, <c>TimeoutStartSec=</c> passed (the service is stopped and the
    /// result is a timeout), or a stop was asked for meanwhile (it takes over).
    /// </summary>
    private async Task<Task<ProcessExit>?> AwaitReadyAsync(int generation, UnitFile unit, IServiceProcess process)
    {
        if (!OperatingSystem.IsLinux() || _notify is not { } notify)
        {
            return null;
        }

        notify.SetMain(process.Info.Pid);
        if (unit.Type != ServiceType.Notify)
        {
            return null;
        }

        // Started but not ready: stop and status see its process; the state stays what it was, sub-state starting.
        _observer.Starting(generation, process);

        var abort = new CancellationTokenSource();
        Volatile.Write(ref _startAbort, abort);
        var outcome = await notify.WaitReadyAsync(process.Exited, unit.TimeoutStart, abort.Token).ConfigureAwait(false);
        Volatile.Write(ref _startAbort, null);
        switch (outcome)
        {
            case ReadyOutcome.Ready:
                return null;
            case ReadyOutcome.Exited:
                var exit = await process.Exited.ConfigureAwait(false);
                _observer.Failed(generation, $"main process {exit} before it sent READY=1");
                _context.Logger.ServiceStartFailed(_service, $"main process {exit} before it sent READY=1");
                return process.Exited;
            case ReadyOutcome.TimedOut:
                var reason = $"no READY=1 within TimeoutStartSec={unit.TimeoutStart.TotalSeconds:0.###}s: the start timed out and the service was stopped";
                _observer.Failed(generation, reason);
                _context.Logger.ServiceStartFailed(_service, reason);
                var stopped = await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
                return Task.FromResult(stopped with { TimedOut = true });
            default:
                // The stop waiting for the gate takes the service over: this launch's ending is not the restart policy's.
                _observer.Aborted("stopped before it sent READY=1");

                return Task.FromResult(await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// For <c>Type=forking</c>: the started process must exit with code 0 and the daemon's main PID be found (see
    /// <see cref="ForkingStart"/>); until then stop and status see the started process. Returns the daemon's process,
    /// or how the attempt ends (a failure, or a stop asked for meanwhile, which takes over).
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private async Task<(IServiceProcess? Daemon, Task<ProcessExit>? Ending)> AwaitForkedAsync(int generation, UnitFile unit, IServiceProcess started)
    {
        _observer.Starting(generation, started);

        // Not disposed: a stop may still cancel it after the start is over (as AwaitReadyAsync's).
        var abort = new CancellationTokenSource();
        Volatile.Write(ref _startAbort, abort);
        var outcome = await new ForkingStart(unit, _cgroup.Cgroup, _context.Processes, _context.Time, _context.Logger).RunAsync(started, abort.Token).ConfigureAwait(false);
        Volatile.Write(ref _startAbort, null);
        if (outcome.Process is { } daemon)
        {
            return (daemon, null);
        }

        if (outcome.Aborted)
        {
            _observer.Aborted("stopped before the daemon was running");
        }
        else
        {
            _observer.Failed(generation, outcome.Reason!);
            _context.Logger.ServiceStartFailed(_service, outcome.Reason!);
        }

        return (null, Task.FromResult(outcome.Exit!));
    }

    /// <summary>
    /// A service taken over from a previous daemon keeps its <c>NOTIFY_SOCKET</c> path: the socket is bound there again
    /// (what was sent meanwhile is lost, as sd_notify allows) and its watchdog starts afresh.
    /// </summary>
    public void Resume(UnitFile unit, IServiceProcess process)
    {
        if (OpenNotifications(unit) is { } failure)
        {
            _context.Logger.ServiceFailed(_service, failure);
        }
        else if (OperatingSystem.IsLinux() && _notify is { } notify)
        {
            notify.SetMain(process.Info.Pid);
            ArmWatchdog(unit, process);
        }
    }

    public void AbortPendingStart() => Volatile.Read(ref _startAbort)?.Cancel();

    /// <summary>
    /// With <c>WatchdogSec=</c>: once running, a service that sends no <c>WATCHDOG=1</c> in time is killed with SIGABRT
    /// (then SIGKILL after <c>TimeoutStopSec=</c>); its exit is marked as the watchdog's and the restart policy applies.
    /// </summary>
    private void ArmWatchdog(UnitFile unit, IServiceProcess process)
    {
        if (OperatingSystem.IsLinux() && unit.Watchdog is { } interval && _notify is { } notify)
        {
            notify.ArmWatchdog(interval, () => _ = process.StopAsync(SignalAbort, unit.TimeoutStop));
        }
    }

    /// <summary>Runs commands in order; returns the first failure (as its exit), or null when all succeeded.</summary>
    public async Task<ProcessExit?> RunCommandsAsync(
        UnitFile unit, IReadOnlyList<UnitCommand> commands, TimeSpan timeout, string key, IServiceProcess? mainProcess = null)
    {
        foreach (var command in commands)
        {
            ProcessExit exit;
            try
            {
                exit = await _context.Processes.RunAsync(Launch(unit, command).WithEnvironment(MainPidVariable(mainProcess)), timeout).ConfigureAwait(false);
            }
            catch (ProcessStartException ex)
            {
                if (ex.IsResourceShortage)
                {
                    // Even a '-' command is retried: it did not fail, it never ran.
                    _observer.ShortOfResources(ex.Message);
                    return new ProcessExit(ExitExec, null);
                }

                if (command.IgnoreFailure)
                {
                    continue;
                }

                _observer.CommandFailed(ex.Message);
                return new ProcessExit(ExitExec, null);
            }

            if (!exit.IsSuccess && !command.IgnoreFailure)
            {
                _observer.CommandFailed($"{key} command '{command.CommandLine}' {exit}");
                return exit;
            }
        }

        return null;
    }

    /// <summary><c>$MAINPID</c> for ExecStop= and ExecReload= commands, as systemd sets it while there is a main process.</summary>
    public static Dictionary<string, string> MainPidVariable(IServiceProcess? process) =>
        ServiceController.MainPid(process) is { } pid ? new() { ["MAINPID"] = pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } : [];

    /// <summary>
    /// A launch of one of the unit's commands. Every command joins the service's cgroup, but only the main process's
    /// tree is the cgroup: an ExecStartPre/ExecStartPost/ExecStop command run to completion is stopped as its own
    /// process group and session, never with the main process it runs beside.
    /// </summary>
    public ProcessLaunch Launch(UnitFile unit, UnitCommand command, bool main = false) => new(unit, command)
    {
        Output = _context.Logs.OpenWriter(unit.Name, new LogRateLimit(unit.LogRateLimitBurst, unit.LogRateLimitInterval)),
        DefaultWorkingDirectory = _context.DefaultWorkingDirectory,
        CgroupProcsFiles = main ? _cgroup.Cgroup?.ProcsFiles ?? [] : [],
        CgroupJoinFiles = _cgroup.Cgroup?.JoinFiles ?? [],
        Environment = OperatingSystem.IsLinux() && _notify is { } notify ? notify.Environment(unit) : new Dictionary<string, string>(),
        PidVariables = !main || _notify is null ? [] : unit.Watchdog is null ? NotifyPidVariables : WatchdogPidVariables,
    };

    // SYSTEMD_EXEC_PID as systemd 248+ sets it: how sd_notify clients (.NET's UseSystemd() from 11.0 on, among them) tell
    // that the notification socket is meant for them and not for a parent. Only for notify services: it needs the shim.
    private static readonly string[] NotifyPidVariables = ["SYSTEMD_EXEC_PID"];
    private static readonly string[] WatchdogPidVariables = ["SYSTEMD_EXEC_PID", "WATCHDOG_PID"];

    /// <summary>The launch could not start for the daemon's own shortage: the ending the state machine turns into a retry.</summary>
    private Task<ProcessExit> ShortOfResources(string message)
    {
        _observer.ShortOfResources(message);
        return Task.FromResult(new ProcessExit(ExitExec, null));
    }
}
