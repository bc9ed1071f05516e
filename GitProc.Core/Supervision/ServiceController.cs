using GitProc.Events;
using GitProc.Health;
using GitProc.Processes;
using GitProc.Readiness;
using GitProc.ResourceControl;
using GitProc.State;
using GitProc.Targeting;
using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>
/// Keeps one service running. Every command (start, stop, restart, a unit change, an automatic restart) runs
/// under one gate, so a crash-restart can never race an operator's stop. What each event makes of the service's state
/// is <see cref="ServiceStateMachine"/>'s; a launch (pre, main, readiness, post) is a <see cref="LaunchSequence"/>'s;
/// its cgroup is a <see cref="CgroupLease"/>. The process's exits are watched
/// by a supervise loop: wait for the ending, let the state machine decide, wait out the restart delay on
/// <see cref="SupervisorContext.Time"/>, launch again.
/// </summary>
/// <remarks>
/// Why a plain loop and not a Polly retry pipeline: nothing here is a transient fault to retry. Every ending is an
/// outcome the state machine records (and publishes) before deciding, the attempts are unbounded, the delay comes
/// from the unit and the state, and the restart timer must be armed in the same step that shows the service as
/// <c>auto-restart</c>. A pipeline whose "should handle" predicate changes state hid all of that in callbacks.
/// </remarks>
internal sealed partial class ServiceController : IAsyncDisposable, ILaunchObserver
{
    private readonly SupervisorContext _context;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _sync = new();

    // The service's state (under _sync).
    private readonly ServiceStateMachine _state = new();

    // The service's cgroup, kept across automatic restarts and released when the service stops.
    private readonly CgroupLease _cgroup;

    // How its commands are launched, and its notification socket.
    private readonly LaunchSequence _launch;

    private UnitFile _unit;
    private string _digest;

    // Why the unit does not run on this host (its ConditionHost=), or null; changes with the unit.
    private string? _unmet;
    private IServiceProcess? _process;
    private DateTimeOffset? _startTime;

    // What subscribers last heard (under _sync): a change is published once, whichever path made it.
    private ServiceStatus _publishedStatus = ServiceStatus.Stopped;
    private ServiceSubState _publishedSubState = ServiceSubState.Dead;
    private int? _publishedPid;

    // Set only when handing over to a re-executed daemon (DetachOutputAsync).
    private string? _pendingOutput;

    // Each start begins a new generation; a supervise loop only touches state while its generation is current,
    // so a loop that a command has taken over can never overwrite what the command did.
    private int _generation;
    private CancellationTokenSource? _superviseCts;

    // The supervise loops not yet ended (under _sync): one per generation until a command takes it over and it notices.
    private readonly List<Task> _loops = [];

    public ServiceController(UnitFile unit, SupervisorContext context)
    {
        _unit = unit;
        _digest = UnitDefinition.Digest(unit);
        _context = context;
        _unmet = HostTargeting.Unmet(unit, context.Host);
        _cgroup = new CgroupLease(context, unit.Name, OnOomKillsAsync);
        _launch = new LaunchSequence(context, unit.Name, _cgroup, this);

        // What subscribers would have seen had it been announced: a unit for another host is stopped for that reason
        // from the start, so its first event (a commit moving it here) says it came from "condition".
        _publishedSubState = ShownSubState();
    }

    public string Name => _unit.Name;

    public UnitFile Unit => _unit;

    /// <summary>Why the unit's <c>ConditionHost=</c> keeps it from running on this host; <see langword="null"/> when it runs here.</summary>
    public string? UnmetCondition => Volatile.Read(ref _unmet);

    /// <summary>Running, or waiting to be restarted: an operator's start would be redundant.</summary>
    public bool IsActive
    {
        get
        {
            lock (_sync)
            {
                return _state.IsActive(_process is not null);
            }
        }
    }

    /// <summary>The service has its own cgroup now (while it runs, where cgroups are used).</summary>
    public bool HasCgroup => _cgroup.Cgroup is not null;

    public bool ManuallyStopped
    {
        get
        {
            lock (_sync)
            {
                return _state.ManuallyStopped;
            }
        }
    }

    /// <summary>Takes over what a previous daemon recorded: its restart count and an operator's stop.</summary>
    public void Restore(ServiceRecord recorded)
    {
        lock (_sync)
        {
            _state.Restore(recorded);
            _startTime = recorded.StartTime;
        }
    }

    public ServiceSnapshot Snapshot()
    {
        lock (_sync)
        {
            var (subState, namedPid, statusText) = OperatingSystem.IsLinux() && _launch.Notifications is { } notify
                ? (_state.Shown(_unmet is not null, notify.Announced), notify.NamedMainPid, notify.StatusText)
                : (ShownSubState(), null, null);
            return new ServiceSnapshot
            {
                Name = _unit.Name,
                Status = _state.Status,
                SubState = subState.ToText(),
                Description = _unit.Description,
                Pid = MainPid(_process) is { } pid ? namedPid ?? pid : null,
                StartTime = _startTime,
                RestartCount = _state.RestartCount,
                LastExitCode = _state.LastExitCode,
                LastExit = _state.LastExit?.ToString(),
                FailureReason = _state.FailureReason,
                ManuallyStopped = _state.ManuallyStopped,
                LimitsEnforced = _cgroup.Cgroup is not null,
                LimitsNote = _cgroup.LimitsNote,
                Health = _context.Health?.GetReport(_unit.Name),
                StatusText = statusText,
                UnmetCondition = _unmet,
            };
        }
    }

    /// <summary>The sub-state users see (under <see cref="_sync"/>).</summary>
    private ServiceSubState ShownSubState() => _state.Shown(conditionUnmet: _unmet is not null);

    public ServiceRecord ToState()
    {
        lock (_sync)
        {
            return new ServiceRecord
            {
                Name = _unit.Name,
                Status = _state.Status,
                Pid = MainPid(_process),
                ProcessStartTicks = MainPid(_process) is null ? null : _process?.Info.StartTicks,
                StartTime = _startTime,
                RestartCount = _state.RestartCount,
                LastExitCode = _state.LastExitCode,
                ManuallyStopped = _state.ManuallyStopped,
                // Also kept for a oneshot that remains active, whose digest (with no pid) says so to the next daemon.
                UnitDigest = _process is null && !_state.ExitedActive ? null : _digest,
                OutputPipe = _process?.Info.OutputPipe,
                PendingOutput = _process is null ? null : _pendingOutput,
            };
        }
    }

    /// <summary>Starts the service unless it is active (or, when applying, unless an operator stopped it).</summary>
    /// <exception cref="ServiceOperationException">An operator's start of an active service, or the start failed.</exception>
    public async Task<ServiceSnapshot> StartAsync(StartMode mode, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsActive)
            {
                if (mode == StartMode.Operator)
                {
                    throw AlreadyActive();
                }

                return Snapshot();
            }

            // As systemd: an unmet condition skips the start without failing it, so dependents still start; an
            // operator who asked for this very service is told why nothing happened.
            if (UnmetCondition is not null)
            {
                return mode == StartMode.Operator ? throw NotForThisHost() : Snapshot();
            }

            if (mode == StartMode.Apply && ManuallyStopped)
            {
                return Snapshot();
            }

            if (mode != StartMode.Apply)
            {
                lock (_sync)
                {
                    _state.ClearForOperatorStart();
                }
            }

            var failure = await StartUnderGateAsync().ConfigureAwait(false);
            if (failure is not null && mode != StartMode.Apply)
            {
                throw new ServiceOperationException(Name, $"Service {Name} failed to start: {failure}") { Code = GitProcErrorCodes.StartFailed };
            }
        }
        finally
        {
            _gate.Release();
        }

        return Snapshot();
    }

    /// <summary>Stops the service with its process tree.</summary>
    /// <param name="mode">
    /// An operator's stop (persisted before it is done; an error when there is nothing to stop, unless the service
    /// failed: stopping a failed service is how an operator says "leave it down"), or the daemon's own.
    /// </param>
    /// <param name="cancellationToken">Cancels waiting for the gate; once begun, the stop completes.</param>
    public async Task<ServiceSnapshot> StopAsync(StopMode mode, CancellationToken cancellationToken)
    {
        var manual = mode == StopMode.Operator;

        // Read before the gate, as the operator saw it when asking.
        var requireActive = manual && Snapshot().Status != ServiceStatus.Failed;
        _launch.AbortPendingStart();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsActive && requireActive)
            {
                throw new ServiceOperationException(Name, $"Service not running: {Name}") { Code = GitProcErrorCodes.NotRunning };
            }

            if (manual)
            {
                await RecordChoiceUnderGateAsync(stopped: true, cancellationToken).ConfigureAwait(false);
            }

            await StopUnderGateAsync(manual).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        return Snapshot();
    }

    /// <summary>
    /// Records an operator's choice (stopped, or not) and waits until it is on disk, before anything is done about it,
    /// so a command is acknowledged only once its choice would survive a crash. When the state cannot be written the
    /// choice is taken back and the command fails, leaving the service as it was.
    /// </summary>
    /// <exception cref="ServiceOperationException">The state could not be written; the message says why.</exception>
    public async Task RecordChoiceAsync(bool stopped, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RecordChoiceUnderGateAsync(stopped, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RecordChoiceUnderGateAsync(bool stopped, CancellationToken cancellationToken)
    {
        bool before;
        lock (_sync)
        {
            before = _state.ChooseStopped(stopped);
        }

        try
        {
            await _context.PersistAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            lock (_sync)
            {
                _state.ChooseStopped(before);
            }

            if (ex is OperationCanceledException)
            {
                throw;
            }

            throw new ServiceOperationException(
                Name, $"Could not save the state, so {Name} was not {(stopped ? "stopped" : "started")}: {ex.Message}", ex)
            {
                Code = GitProcErrorCodes.StateError,
            };
        }
    }

    /// <summary>Puts a changed unit in place: stops the old definition's process; the caller starts the new one.</summary>
    public async Task ReplaceUnitAsync(UnitFile unit, CancellationToken cancellationToken)
    {
        _launch.AbortPendingStart();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopUnderGateAsync(manual: false).ConfigureAwait(false);
            lock (_sync)
            {
                _unit = unit;
                _digest = UnitDefinition.Digest(unit);
                _unmet = HostTargeting.Unmet(unit, _context.Host);

                // A commit that changes the unit ends an operator's stop and a crash loop (CONTRACT §3).
                _state.UnitReplaced();
            }

            // A unit moved off this host shows so at once (stopped, then stopped for its condition).
            Changed();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Takes over the main process a previous daemon (or this one, before it re-executed itself) recorded for the
    /// service, when that very process still runs and the unit is the one it was started with: same pid, no restart;
    /// its output is read again and its exit handled by the restart policy. An operator's stop, a changed unit, a
    /// oneshot, or a process that is gone means no: the caller then starts the service as usual.
    /// </summary>
    /// <returns>Whether the process was taken over.</returns>
    public async Task<bool> AdoptAsync(ServiceRecord recorded, CancellationToken cancellationToken)
    {
        if (_unit.RemainAfterExit && recorded is { Status: ServiceStatus.Running, Pid: null, ManuallyStopped: false } && recorded.UnitDigest == _digest)
        {
            return await RestoreExitedAsync(cancellationToken).ConfigureAwait(false);
        }

        if (recorded is not { Pid: { } pid, ProcessStartTicks: { } ticks, ManuallyStopped: false }
            || recorded.UnitDigest != _digest
            || _unit.Type == ServiceType.Oneshot
            || _unit.ExecStartCommands.Count == 0)
        {
            return false;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsActive)
            {
                return false;
            }

            var unit = _unit;
            await _cgroup.AcquireAsync(unit, adopting: true).ConfigureAwait(false);
            var launch = _launch.Launch(unit, unit.ExecStartCommands[0], main: true);
            if (recorded.PendingOutput is { Length: > 0 } pending && launch.Output is { } output)
            {
                // The start of a line the previous daemon had read but not stored: the line continues with what
                // the process writes next.
                await output.WriteAsync(Convert.FromBase64String(pending), CancellationToken.None).ConfigureAwait(false);
            }

            var started = recorded.StartTime ?? _context.Time.GetUtcNow();
            var process = _context.Processes.Adopt(launch, new ProcessInfo(Name, pid, started, ticks) { OutputPipe = recorded.OutputPipe });
            if (process is null)
            {
                // Gone: whatever it left in its cgroup goes too, so the fresh start runs alone.
                await _cgroup.ReleaseAsync().ConfigureAwait(false);
                return false;
            }

            int generation;
            CancellationTokenSource cts;
            lock (_sync)
            {
                generation = ++_generation;
                _superviseCts?.Dispose();
                cts = _superviseCts = new CancellationTokenSource();
                _process = process;
                _startTime = started;
                _state.Adopted();
            }

            _context.Logger.ServiceAdopted(Name, pid);
            WatchHealth(unit);
            _launch.Resume(unit, process);
            Track(SuperviseAsync(unit, process.Exited, generation, cts.Token));
            Changed();
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A oneshot that remained active under the previous daemon stays so: it is not run again.</summary>
    private async Task<bool> RestoreExitedAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_sync)
            {
                _state.RestoredExited();
            }
        }
        finally
        {
            _gate.Release();
        }

        Changed();
        return true;
    }

    /// <summary>
    /// For an in-place upgrade: takes the service's gate for good, so no command, restart or health action runs any
    /// more in this process; what runs keeps running for the re-executed daemon to take over.
    /// </summary>
    public Task FreezeAsync() => _gate.WaitAsync();

    /// <summary>
    /// For an in-place upgrade, once the process manager is suspended: keeps, for the state, the start of a line of
    /// output that was read but has not ended, which the next daemon continues (<see cref="AdoptAsync"/>).
    /// </summary>
    public async Task DetachOutputAsync()
    {
        if (OperatingSystem.IsLinux() && (Volatile.Read(ref _process) is ForkingProcess forking ? forking.Parent : _process) is ServiceProcess process)
        {
            var pending = await process.DetachOutputAsync().ConfigureAwait(false);
            lock (_sync)
            {
                _pendingOutput = pending.Length > 0 ? Convert.ToBase64String(pending) : null;
            }
        }
    }

    /// <summary>Marks the service failed without starting it (a required dependency failed).</summary>
    public async Task FailAsync(ServiceSubState subState, string reason, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsActive)
            {
                return;
            }

            lock (_sync)
            {
                _state.Fail(subState, reason);
            }
        }
        finally
        {
            _gate.Release();
        }

        _context.Logger.ServiceFailed(Name, reason);
        Changed();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(StopMode.Daemon, CancellationToken.None).ConfigureAwait(false);
        _gate.Dispose();
    }

    /// <summary>Starts a supervise loop with a first launch; returns why the first launch failed, if it did.</summary>
    private async Task<string?> StartUnderGateAsync()
    {
        int generation;
        CancellationTokenSource cts;
        UnitFile unit;
        lock (_sync)
        {
            unit = _unit;
            if (!_state.TryBeginStart(unit, _context.Time.GetUtcNow()))
            {
                generation = 0;
                cts = null!;
            }
            else
            {
                generation = ++_generation;
                _superviseCts?.Dispose();
                cts = _superviseCts = new CancellationTokenSource();
            }
        }

        if (generation == 0)
        {
            var reason = ServiceStateMachine.StartLimitReason(unit);
            _context.Logger.ServiceFailed(Name, reason);
            Changed();
            return reason;
        }

        var first = await LaunchAsync(generation).ConfigureAwait(false);
        string? failure = null;

        // Only a launch that never got its main process running is a failed start; a simple service that exits
        // right after starting has started (as with systemd) and its exit is the restart policy's business.
        if (first.IsCompletedSuccessfully && !first.Result.IsSuccess && (_launch.LastLaunchFailed || unit.Type == ServiceType.Oneshot))
        {
            lock (_sync)
            {
                failure = _state.FailureReason ?? first.Result.ToString();
            }
        }

        Track(SuperviseAsync(unit, first, generation, cts.Token));
        return failure;
    }

    private async Task StopUnderGateAsync(bool manual)
    {
        IServiceProcess? process;
        UnitFile unit;
        bool exitedActive;
        lock (_sync)
        {
            // Taking over: the supervise loop of the current generation stops touching state.
            _generation++;
            _superviseCts?.Cancel();
            process = _process;
            unit = _unit;
            exitedActive = _state.BeginStop(hasProcess: process is not null);
        }

        _context.Health?.Unwatch(Name);
        if (OperatingSystem.IsLinux())
        {
            _launch.Notifications?.End();
        }

        ProcessExit? exit = null;
        if (process is not null)
        {
            if (!process.Exited.IsCompleted)
            {
                await _launch.RunCommandsAsync(unit, unit.ExecStop, unit.TimeoutStop, "ExecStop", process).ConfigureAwait(false);
            }

            exit = await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
            _context.Logger.ServiceStopped(Name, process.Info.Pid, exit.ToString());
        }
        else if (exitedActive)
        {
            // A oneshot that remained active has no process left, but its ExecStop= is how it undoes what it did.
            await _launch.RunCommandsAsync(unit, unit.ExecStop, unit.TimeoutStop, "ExecStop").ConfigureAwait(false);
        }

        if (process is not null || exitedActive)
        {
            // Before the cgroup goes: the commands run in it, as systemd runs them.
            await StopPost.RunAsync(_context, unit, exit ?? new ProcessExit(0, null), c => _launch.Launch(unit, c)).ConfigureAwait(false);
        }

        // KillMode=process leaves what the main process forked running, so their cgroup stays while they do (and is
        // taken again by the next start).
        if (unit.KillMode != KillMode.Process || !await _cgroup.HoldsProcessesAsync().ConfigureAwait(false))
        {
            await _cgroup.ReleaseAsync().ConfigureAwait(false);
        }

        _launch.CloseNotifications();
        lock (_sync)
        {
            _process = null;
            _state.Stopped(exit, manual);
        }

        Changed();
    }

    /// <summary>The main PID shown and recorded: none for a <c>Type=forking</c> service without one (<c>GuessMainPID=no</c>).</summary>
    internal static int? MainPid(IServiceProcess? process) =>
        process is null || (OperatingSystem.IsLinux() && process is ForkingProcess { HasMain: false }) ? null : process.Info.Pid;

    /// <summary>The main process ended: its watchdog stops, and an exit the watchdog caused says so.</summary>
    private ProcessExit NotifiedEnd(int generation, ProcessExit exit)
    {
        lock (_sync)
        {
            if (generation != _generation || !OperatingSystem.IsLinux() || _launch.Notifications is not { } notify)
            {
                return exit;
            }

            notify.End();
            return notify.Annotate(exit);
        }
    }

    /// <summary>
    /// The OOM watch saw kills while the service runs: logged and counted; then <c>OOMPolicy=stop</c> stops the service
    /// (its exit is then the result <c>oom-kill</c> and <c>Restart=</c> applies) and <c>kill</c> SIGKILLs its whole cgroup
    /// at once, as the kernel's OOM group kill does. A process that already ended is left to the exit handling.
    /// </summary>
    private async Task OnOomKillsAsync(long kills, CancellationToken cancellationToken)
    {
        IServiceProcess? process;
        UnitFile unit;
        _cgroup.CountKills(kills);
        lock (_sync)
        {
            process = _process;
            unit = _unit;
        }

        _cgroup.ReportKills(unit, kills, process?.Info.Pid);
        if (process is null || unit.OomPolicy == OomPolicy.Continue)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_sync)
            {
                if (!ReferenceEquals(_process, process) || process.Exited.IsCompleted)
                {
                    return;
                }

                _state.RecordFailure(OomWatch.Reason(unit));
            }

            if (unit.OomPolicy == OomPolicy.Kill && _cgroup.Cgroup is { } cgroup)
            {
                await cgroup.KillAllAsync(9, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await _launch.RunCommandsAsync(unit, unit.ExecStop, unit.TimeoutStop, "ExecStop", process).ConfigureAwait(false);
                await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is GitProcException or IOException)
        {
            _context.Logger.ServiceFailed(Name, $"stopping after an OOM kill failed: {ex.Message}");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The cgroup's usage (read at most once a second), or null where the service has no cgroup.</summary>
    public Task<ResourceUsage?> GetUsageAsync(CancellationToken cancellationToken) => _cgroup.GetUsageAsync(cancellationToken);

    /// <summary>
    /// Restarts a service whose health check turned unhealthy: counted as an automatic restart and subject to
    /// the crash-loop limit, whatever its Restart= policy says.
    /// </summary>
    public async Task RestartUnhealthyAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            IServiceProcess? process;
            lock (_sync)
            {
                process = _process;
                if (process is null)
                {
                    return;
                }

                _state.RestartForHealth();
            }

            _context.Logger.ServiceUnhealthy(Name);
            await process.StopAsync(_unit.KillSignal, _unit.TimeoutStop).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void WatchHealth(UnitFile unit)
    {
        if (_context.Health is { } health && HealthCheck.From(unit, _context.HealthOptions) is { } check)
        {
            health.Watch(check);
        }
    }

    /// <summary>
    /// Completes once every supervise loop started so far has ended: the last ending was not restarted, or a command
    /// took the service over. Nothing changes the service's state after that but a command, so a test can wait for
    /// this instead of sleeping to see that nothing more happens by itself.
    /// </summary>
    internal Task SupervisionEnded
    {
        get
        {
            lock (_sync)
            {
                _loops.RemoveAll(t => t.IsCompleted);
                return Task.WhenAll(_loops);
            }
        }
    }

    /// <summary>The next poll of the service's OOM watch (<see cref="OomWatch.NextPoll"/>); null while none polls.</summary>
    internal Task? NextOomPoll => _cgroup.NextOomPoll;

    private void Track(Task loop)
    {
        lock (_sync)
        {
            _loops.RemoveAll(t => t.IsCompleted);
            _loops.Add(loop);
        }
    }

    /// <summary>
    /// The supervise loop of one generation: waits for the launch's ending, cleans up after it, lets the state machine
    /// decide, and, for a restart, waits out the delay and launches again under the gate. Ends when the state machine
    /// says no restart, or when a command takes the service over (cancels <paramref name="cancellationToken"/>).
    /// </summary>
    private async Task SuperviseAsync(UnitFile unit, Task<ProcessExit> firstExit, int generation, CancellationToken cancellationToken)
    {
        try
        {
            var ended = firstExit;
            while (true)
            {
                var exit = NotifiedEnd(generation, await ended.WaitAsync(cancellationToken).ConfigureAwait(false));
                await StopRemainingAsync(generation).ConfigureAwait(false);
                exit = await _cgroup.ClassifyEndAsync(Volatile.Read(ref _unit), exit).ConfigureAwait(false);
                await StopPostAfterExitAsync(generation, exit).ConfigureAwait(false);
                if (OnEnded(exit, generation, unit, cancellationToken) is not { } restartDelay)
                {
                    return;
                }

                await restartDelay.ConfigureAwait(false);
                ended = await RestartAsync(generation, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A command took the service over; it owns the state now.
        }
#pragma warning disable CA1031 // The loop runs unobserved: anything unexpected must become a failed state, not a lost task.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _context.Logger.SuperviseLoopFailed(Name, ex);
            SetFailedIfCurrent(generation, ServiceSubState.Failed, ex.Message);
        }
    }

    /// <summary>
    /// Once the main process has exited on its own, what it left running (its cgroup's processes, else its process
    /// group's and session's) is stopped as the service itself would be, before the exit is handled: a service that
    /// ended leaves nothing behind, and a restart never runs beside its predecessor's children (systemd's
    /// <c>KillMode=control-group</c>).
    /// </summary>
    private async Task StopRemainingAsync(int generation)
    {
        IServiceProcess? process;
        UnitFile unit;
        lock (_sync)
        {
            if (generation != _generation)
            {
                return;
            }

            process = _process;
            unit = _unit;
        }

        if (process is { Exited.IsCompleted: true })
        {
            await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs ExecStopPost= once the service ended on its own (a crash, an exit, a failed start), before a restart: not
    /// for a oneshot that remains active (its stop runs them), nor for a start the daemon's shortage prevented.
    /// </summary>
    private async Task StopPostAfterExitAsync(int generation, ProcessExit exit)
    {
        UnitFile unit;
        lock (_sync)
        {
            if (generation != _generation || _state.Shortage is not null)
            {
                return;
            }

            unit = _unit;
        }

        // The same test as ServiceStateMachine.Ended's for staying active: a clean end of a RemainAfterExit= oneshot keeps it active.
        if (unit.ExecStopPost.Count > 0 && !(unit.RemainAfterExit && exit.IsClean))
        {
            await StopPost.RunAsync(_context, unit, exit, c => _launch.Launch(unit, c)).ConfigureAwait(false);
        }
    }

    /// <summary>An automatic restart: under the gate, so it cannot race a command.</summary>
    private async Task<Task<ProcessExit>> RestartAsync(int generation, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            int restartCount;
            lock (_sync)
            {
                if (generation != _generation)
                {
                    throw new OperationCanceledException(cancellationToken);
                }

                _state.BeginRestart();
                restartCount = _state.RestartCount;
            }

            _context.Logger.ServiceRestarting(Name, restartCount);
            return await LaunchAsync(generation).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A launch ended: the state machine records it and decides. Returns the restart delay, already armed on
    /// <see cref="SupervisorContext.Time"/> in the same step that shows the service as <c>auto-restart</c> (or
    /// <c>waiting-for-resources</c>), so whoever sees that sub-state knows the timer runs; null when there is no restart
    /// (or the loop's generation is no longer current).
    /// </summary>
    private Task? OnEnded(ProcessExit exit, int generation, UnitFile unit, CancellationToken cancellationToken)
    {
        ServiceStateMachine.Ending ending;
        Task? delay = null;
        string? waiting = null;
        lock (_sync)
        {
            if (generation != _generation)
            {
                return null;
            }

            _process = null;
            ending = _state.Ended(unit, exit, _context.Time.GetUtcNow());

            // Counted in the step that shows the ending, so whoever sees the service failed (or restarting) and then
            // scrapes finds its exit counted.
            if (!ending.WaitingForResources)
            {
                _context.Metrics?.ServiceExited(Name, exit, ending.Unhealthy);
            }

            if (ending.Restart)
            {
                delay = ending.Delay > TimeSpan.Zero ? Task.Delay(ending.Delay, _context.Time, cancellationToken) : Task.CompletedTask;
            }

            if (ending.WaitingForResources)
            {
                waiting = _state.FailureReason;
            }
        }

        if (waiting is not null)
        {
            _context.Logger.ServiceWaitingForResources(Name, waiting);
            Changed();
            return delay;
        }

        if (ending.Clean)
        {
            _context.Logger.ServiceEnded(Name, exit.ToString(), ending.Restart);
        }
        else
        {
            _context.Logger.ServiceExited(Name, exit.ToString(), ending.Restart);
        }

        Changed();
        return delay;
    }

    /// <summary>A launch of the current unit, begun under the gate: whatever shortage stopped the previous one is past.</summary>
    private Task<Task<ProcessExit>> LaunchAsync(int generation)
    {
        lock (_sync)
        {
            _state.BeginLaunch();
        }

        return _launch.RunAsync(Volatile.Read(ref _unit), generation);
    }

    void ILaunchObserver.Starting(int generation, IServiceProcess process)
    {
        lock (_sync)
        {
            if (generation == _generation)
            {
                _process = process;
                _startTime = _context.Time.GetUtcNow();
            }
        }
    }

    void ILaunchObserver.Started(int generation, IServiceProcess? process, long launchBegan)
    {
        bool current;
        lock (_sync)
        {
            current = generation == _generation;
            if (current)
            {
                _process = process;
                _startTime = _context.Time.GetUtcNow();
                _state.Started();
            }
        }

        if (current)
        {
            _context.Metrics?.ServiceStarted(Name, _context.Time.GetElapsedTime(launchBegan));
            Changed();
        }

        if (process is not null)
        {
            _context.Logger.ServiceStarted(Name, process.Info.Pid);
            WatchHealth(Volatile.Read(ref _unit));
        }
    }

    void ILaunchObserver.Failed(int generation, string reason)
    {
        lock (_sync)
        {
            if (generation == _generation)
            {
                _state.RecordFailure(reason);
            }
        }
    }

    void ILaunchObserver.Aborted(string reason)
    {
        // The stop waiting for the gate takes the service over: this launch's ending is not the restart policy's.
        lock (_sync)
        {
            _generation++;
            _state.RecordFailure(reason);
        }
    }

    void ILaunchObserver.ShortOfResources(string message)
    {
        lock (_sync)
        {
            _state.ShortOfResources(message);
        }
    }

    void ILaunchObserver.CommandFailed(string reason)
    {
        lock (_sync)
        {
            _state.RecordFailure(reason);
        }
    }

    void ILaunchObserver.Changed() => Changed();

    /// <summary>An operator's start of an active service: running, waiting to restart, or waiting for the daemon's resources.</summary>
    internal ServiceOperationException AlreadyActive()
    {
        var status = Snapshot();
        return status.SubState == ServiceSubStateText.WaitingForResources
            ? new ServiceOperationException(Name, $"Service {Name} is waiting for the daemon's resources and starts by itself once they return: {status.FailureReason}") { Code = GitProcErrorCodes.AlreadyRunning }
            : new ServiceOperationException(Name, $"Service already running: {Name}") { Code = GitProcErrorCodes.AlreadyRunning };
    }

    /// <summary>An operator's start or restart of a service whose <c>ConditionHost=</c> keeps it off this host.</summary>
    internal ServiceOperationException NotForThisHost() =>
        new(Name, $"Service {Name} was not started: {UnmetCondition}") { Code = GitProcErrorCodes.ConditionFailed };

    private void SetFailedIfCurrent(int generation, ServiceSubState subState, string reason)
    {
        lock (_sync)
        {
            if (generation != _generation)
            {
                return;
            }

            _process = null;
            _state.Fail(subState, reason);
        }

        Changed();
    }

    /// <summary>Persists a change, and tells subscribers when the status or sub-state moved since they last heard.</summary>
    private void Changed()
    {
        if (_context.Events is { } events)
        {
            lock (_sync)
            {
                var status = _state.Status;
                var subState = ShownSubState();
                if (status != _publishedStatus || subState != _publishedSubState)
                {
                    var pid = _process?.Info.Pid ?? _publishedPid;
                    events.Publish(new GitProcEvent
                    {
                        Type = EventTypes.ServiceRecord,
                        Service = Name,
                        From = ToText(_publishedStatus),
                        FromSubState = _publishedSubState.ToText(),
                        To = ToText(status),
                        ToSubState = subState.ToText(),
                        Pid = pid,
                        ExitCode = status == ServiceStatus.Running ? null : _state.LastExitCode,
                        RestartCount = _state.RestartCount,
                        Reason = status == ServiceStatus.Running ? null
                            : subState == ServiceSubState.Condition ? _unmet
                            : _state.ManuallyStopped ? "stopped by an operator"
                            : _state.FailureReason ?? _state.LastExit?.ToString(),
                    });
                    _publishedStatus = status;
                    _publishedSubState = subState;
                    _publishedPid = _process?.Info.Pid;
                }
            }
        }

        _context.StateChanged();
    }

    private static string ToText(ServiceStatus status) => status.ToString().ToLowerInvariant();
}
