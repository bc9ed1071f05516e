using GitProc.Processes;
using GitProc.State;
using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>
/// A service's state and every transition between states, in one place and without processes: what a start, a stop,
/// an ending, a restart or a failed dependency makes of the status, sub-state, failure reason, counters and the
/// operator's stop; and, when a process ends, whether it is restarted and after what delay (systemd's restart table,
/// <c>RestartSec=</c> backoff, the start limit, and the daemon's own shortages).
/// </summary>
/// <remarks>
/// Not thread-safe: its owner (<see cref="ServiceController"/>) calls it under its lock, and alone decides which
/// launch is current (its generation), so a transition here never needs to ask whether it is still wanted.
/// </remarks>
internal sealed class ServiceStateMachine
{
    private readonly StartLimiter _limiter = new();

    public ServiceStatus Status { get; private set; } = ServiceStatus.Stopped;

    public ServiceSubState SubState { get; private set; } = ServiceSubState.Dead;

    public string? FailureReason { get; private set; }

    /// <summary>Automatic restarts since the daemon first started the service (kept across daemons).</summary>
    public int RestartCount { get; private set; }

    public ProcessExit? LastExit { get; private set; }

    public int? LastExitCode { get; private set; }

    /// <summary>An operator stopped the service; it stays stopped (across daemons) until started or its unit changes.</summary>
    public bool ManuallyStopped { get; private set; }

    /// <summary>A oneshot with <c>RemainAfterExit=yes</c> that succeeded: active without a process until stopped.</summary>
    public bool ExitedActive { get; private set; }

    /// <summary>
    /// Why the current launch could not start for the daemon's own shortage (descriptors, memory), or null. Such a start
    /// is retried after <see cref="RestartBackoff.ShortageDelay"/>, is not counted, and never fails the service.
    /// </summary>
    public string? Shortage { get; private set; }

    private int _shortageRetries;

    // An unhealthy verdict asked for a restart: the next ending is restarted whatever Restart= says.
    private bool _unhealthyRestart;

    /// <summary>Running, or waiting to be restarted: an operator's start would be redundant.</summary>
    public bool IsActive(bool hasProcess) =>
        hasProcess || ExitedActive || SubState is ServiceSubState.AutoRestart or ServiceSubState.WaitingForResources;

    /// <summary>
    /// The sub-state users see: a stopped service whose unit does not run on this host says so, whether it never started
    /// here or was stopped when a commit moved it elsewhere; a running one that announced <c>STOPPING=1</c> or
    /// <c>RELOADING=1</c> is shown doing that.
    /// </summary>
    public ServiceSubState Shown(bool conditionUnmet, (bool Stopping, bool Reloading) announced = default) => SubState switch
    {
        ServiceSubState.Dead when Status == ServiceStatus.Stopped && conditionUnmet => ServiceSubState.Condition,
        ServiceSubState.Running when announced.Stopping => ServiceSubState.Stopping,
        ServiceSubState.Running when announced.Reloading => ServiceSubState.Reloading,
        _ => SubState,
    };

    /// <summary>Takes over what a previous daemon recorded: its restart count, an operator's stop, the last exit code.</summary>
    public void Restore(ServiceRecord recorded)
    {
        RestartCount = recorded.RestartCount;
        ManuallyStopped = recorded.ManuallyStopped;
        LastExitCode = recorded.LastExitCode;
    }

    /// <summary>Records an operator's choice; returns the one it replaces (put back when the choice cannot be saved).</summary>
    public bool ChooseStopped(bool stopped)
    {
        var before = ManuallyStopped;
        ManuallyStopped = stopped;
        return before;
    }

    /// <summary>An operator's (or a dependent's) start: ends an operator's stop and forgets a crash loop.</summary>
    public void ClearForOperatorStart()
    {
        ManuallyStopped = false;
        _limiter.Reset();
    }

    /// <summary>
    /// A start asked for at <paramref name="now"/>: <c>starting</c>, unless the start limit is hit, which fails the
    /// service (<c>start-limit-hit</c>) and returns false.
    /// </summary>
    public bool TryBeginStart(UnitFile unit, DateTimeOffset now)
    {
        if (!_limiter.TryAcquire(unit.StartLimitBurst, unit.StartLimitInterval, now))
        {
            Status = ServiceStatus.Failed;
            SubState = ServiceSubState.StartLimitHit;
            FailureReason = StartLimitReason(unit);
            return false;
        }

        FailureReason = null;
        SubState = ServiceSubState.Starting;
        return true;
    }

    /// <summary>An automatic restart begins (its delay passed): counted, unless it retries a start that never happened.</summary>
    public void BeginRestart()
    {
        if (Shortage is null)
        {
            RestartCount++;
        }

        SubState = ServiceSubState.Starting;
    }

    /// <summary>A launch begins: whatever shortage stopped the previous one is past.</summary>
    public void BeginLaunch() => Shortage = null;

    /// <summary>The launch could not start for the daemon's own shortage: retried, never the service's failure.</summary>
    public void ShortOfResources(string message)
    {
        Shortage = message;
        FailureReason = message;
    }

    /// <summary>Why the current launch failed (a command, a start timeout, a stop during the start).</summary>
    public void RecordFailure(string reason) => FailureReason = reason;

    /// <summary>The main process runs (or a oneshot's commands run): <c>running</c>.</summary>
    public void Started()
    {
        Status = ServiceStatus.Running;
        SubState = ServiceSubState.Running;
        FailureReason = null;
        _shortageRetries = 0;
    }

    /// <summary>A previous daemon's main process was taken over: running, as it was.</summary>
    public void Adopted()
    {
        Status = ServiceStatus.Running;
        SubState = ServiceSubState.Running;
        FailureReason = null;
    }

    /// <summary>A oneshot that remained active under the previous daemon stays so.</summary>
    public void RestoredExited()
    {
        ExitedActive = true;
        Status = ServiceStatus.Running;
        SubState = ServiceSubState.Exited;
    }

    /// <summary>
    /// A stop begins: <c>stopping</c> when there is something to stop. Returns whether a oneshot remained active (its
    /// ExecStop= still runs); from now on it does not.
    /// </summary>
    public bool BeginStop(bool hasProcess)
    {
        var exitedActive = ExitedActive;
        ExitedActive = false;
        if (hasProcess || exitedActive)
        {
            SubState = ServiceSubState.Stopping;
        }

        return exitedActive;
    }

    /// <summary>A stop completed: <c>dead</c>; an operator's stop is remembered.</summary>
    /// <param name="exit">How the stopped process ended; null when there was none.</param>
    /// <param name="manual">An operator's stop.</param>
    public void Stopped(ProcessExit? exit, bool manual)
    {
        if (exit is not null)
        {
            LastExit = exit;
            LastExitCode = exit.DisplayCode;
        }

        Status = ServiceStatus.Stopped;
        SubState = ServiceSubState.Dead;
        FailureReason = null;
        ManuallyStopped |= manual;
    }

    /// <summary>A commit changed the unit (its old process is stopped): an operator's stop and a crash loop end.</summary>
    public void UnitReplaced()
    {
        ManuallyStopped = false;
        FailureReason = null;
        Status = ServiceStatus.Stopped;
        SubState = ServiceSubState.Dead;
        _limiter.Reset();
    }

    /// <summary>Failed without (or beyond) its process: a required dependency failed, or supervision broke.</summary>
    public void Fail(ServiceSubState subState, string reason)
    {
        Status = ServiceStatus.Failed;
        SubState = subState;
        FailureReason = reason;
    }

    /// <summary>A health check turned unhealthy and the process is being stopped: its ending is restarted.</summary>
    public void RestartForHealth()
    {
        _unhealthyRestart = true;
        FailureReason = "health check failed";
    }

    /// <summary>
    /// The launch's main process (or a oneshot's run, or a launch that failed) ended with <paramref name="exit"/> at
    /// <paramref name="now"/>: records the ending and decides whether, and after what delay, it is restarted.
    /// </summary>
    public Ending Ended(UnitFile unit, ProcessExit exit, DateTimeOffset now)
    {
        if (Shortage is { } shortage)
        {
            // The start never happened: retried whatever Restart= says, and the service is neither failed nor given an
            // exit code. Its place in the start limit goes to the retry, so only starts that happen count.
            _limiter.Forget();
            _ = _limiter.TryAcquire(unit.StartLimitBurst, unit.StartLimitInterval, now);
            _shortageRetries++;
            var delay = RestartBackoff.ShortageDelay(_shortageRetries);
            Status = ServiceStatus.Stopped;
            SubState = ServiceSubState.WaitingForResources;
            FailureReason = $"{shortage}; not the service's failure: the start is retried in {delay.TotalSeconds:0.#} s";
            return new Ending(Restart: true, delay, Clean: false, Unhealthy: false, WaitingForResources: true);
        }

        // The '-' prefix: a non-zero exit of the main command counts as success.
        var forgiven = unit.ExecStartCommands.Count > 0 && unit.ExecStartCommands[^1].IgnoreFailure && exit.ExitCode is not null and not 0 && !exit.OomKilled
            ? new ProcessExit(0, null)
            : exit;
        var clean = forgiven.IsClean && !exit.OomKilled;
        var unhealthy = _unhealthyRestart;
        var restart = unhealthy || RestartDecision.ShouldRestart(unit.Restart, forgiven);
        _unhealthyRestart = false;
        var limitHit = restart && !_limiter.TryAcquire(unit.StartLimitBurst, unit.StartLimitInterval, now);

        LastExit = exit;
        LastExitCode = exit.DisplayCode;
        if (limitHit)
        {
            Status = ServiceStatus.Failed;
            SubState = ServiceSubState.StartLimitHit;
            FailureReason = StartLimitReason(unit);
        }
        else if (restart)
        {
            Status = clean ? ServiceStatus.Stopped : ServiceStatus.Failed;
            SubState = ServiceSubState.AutoRestart;
        }
        else if (clean && unit.RemainAfterExit)
        {
            // Shown running (sub-state exited, no PID), so a dependent's start does not run it again.
            Status = ServiceStatus.Running;
            SubState = ServiceSubState.Exited;
            ExitedActive = true;
        }
        else if (clean)
        {
            Status = ServiceStatus.Stopped;
            SubState = unit.Type == ServiceType.Oneshot ? ServiceSubState.Exited : ServiceSubState.Dead;
        }
        else
        {
            Status = ServiceStatus.Failed;
            SubState = ServiceSubState.Failed;
            FailureReason ??= $"main process {exit}";
        }

        if (exit.OomKilled)
        {
            FailureReason = OomWatch.Reason(unit);
        }

        var restarts = restart && !limitHit;
        return new Ending(restarts, restarts ? RestartBackoff.Delay(unit, RestartCount + 1) : TimeSpan.Zero, clean, unhealthy, WaitingForResources: false);
    }

    public static string StartLimitReason(UnitFile unit) =>
        $"start request repeated too quickly: more than {unit.StartLimitBurst} starts within {unit.StartLimitInterval.TotalSeconds:0.###}s (StartLimitBurst/StartLimitIntervalSec); start it again with 'gitproc start {unit.Name}'";

    /// <summary>What <see cref="Ended"/> decided.</summary>
    /// <param name="Restart">Whether the service is started again after <paramref name="Delay"/>.</param>
    /// <param name="Delay">The restart delay (<c>RestartSec=</c> with its backoff, or the shortage backoff).</param>
    /// <param name="Clean">The process ended cleanly (after the <c>-</c> prefix forgave its exit code).</param>
    /// <param name="Unhealthy">The ending was a restart for a failed health check.</param>
    /// <param name="WaitingForResources">The launch never happened for the daemon's shortage, and is retried.</param>
    internal readonly record struct Ending(bool Restart, TimeSpan Delay, bool Clean, bool Unhealthy, bool WaitingForResources);
}
