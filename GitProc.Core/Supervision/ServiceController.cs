using GitProc.Events;
using GitProc.Health;
using GitProc.Logs;
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
/// is <see cref="ServiceStateMachine"/>'s; its cgroup is a <see cref="CgroupLease"/>. The process's exits are watched
/// by a supervise loop: wait for the ending, let the state machine decide, wait out the restart delay on
/// <see cref="SupervisorContext.Time"/>, launch again.
/// </summary>
/// <remarks>
/// Why a plain loop and not a Polly retry pipeline: nothing here is a transient fault to retry. Every ending is an
/// outcome the state machine records (and publishes) before deciding, the attempts are unbounded, the delay comes
/// from the unit and the state, and the restart timer must be armed in the same step that shows the service as
/// <c>auto-restart</c>. A pipeline whose "should handle" predicate changes state hid all of that in callbacks.
/// </remarks>
internal sealed partial class ServiceController : IAsyncDisposable
{
    // SIGABRT: what the watchdog kills a service with (systemd's default WatchdogSignal=).
    private const int SignalAbort = 6;

    // systemd's EXIT_EXEC: the status a service gets when its program could not be executed.
    private const int ExitExec = 203;

    private readonly SupervisorContext _context;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _sync = new();

    // The service's state (under _sync).
    private readonly ServiceStateMachine _state = new();

    // The service's cgroup, kept across automatic restarts and released when the service stops.
    private readonly CgroupLease _cgroup;

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

    // Set by LaunchAsync (always under the gate): the last launch never got its main process running.
    private bool _launchFailed;

    // The notification socket and what the service said through it (NOTIFY_SOCKET; Type=notify, WatchdogSec=), kept
    // across automatic restarts like the cgroup. See Readiness/.
    private ServiceNotifications? _notify;

    // Cancelled by a stop while a Type=notify start waits for READY=1, so the stop need not wait for the start timeout.
    private CancellationTokenSource? _startAbort;

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
    public void Restore(ServiceState recorded)
    {
        lock (_sync)
        {
            _state.Restore(recorded);
            _startTime = recorded.StartTime;
        }
    }

    public ServiceStatusInfo Snapshot()
    {
        lock (_sync)
        {
            var (subState, namedPid, statusText) = OperatingSystem.IsLinux() && _notify is { } notify
                ? (_state.Shown(_unmet is not null, notify.Announced), notify.NamedMainPid, notify.StatusText)
                : (ShownSubState(), null, null);
            return new ServiceStatusInfo
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

    public ServiceState ToState()
    {
        lock (_sync)
        {
            return new ServiceState
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
    public async Task<ServiceStatusInfo> StartAsync(StartMode mode, CancellationToken cancellationToken)
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
    public async Task<ServiceStatusInfo> StopAsync(StopMode mode, CancellationToken cancellationToken)
    {
        var manual = mode == StopMode.Operator;

        // Read before the gate, as the operator saw it when asking.
        var requireActive = manual && Snapshot().Status != ServiceStatus.Failed;
        AbortPendingStart();
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
        AbortPendingStart();
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
    public async Task<bool> AdoptAsync(ServiceState recorded, CancellationToken cancellationToken)
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
            var launch = Launch(unit, unit.ExecStartCommands[0], main: true);
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
            ResumeNotifications(unit, process);
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
        if (first.IsCompletedSuccessfully && !first.Result.IsSuccess && (_launchFailed || unit.Type == ServiceType.Oneshot))
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
            _notify?.End();
        }

        ProcessExit? exit = null;
        if (process is not null)
        {
            if (!process.Exited.IsCompleted)
            {
                await RunCommandsAsync(unit, unit.ExecStop, unit.TimeoutStop, "ExecStop", process).ConfigureAwait(false);
            }

            exit = await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
            _context.Logger.ServiceStopped(Name, process.Info.Pid, exit.ToString());
        }
        else if (exitedActive)
        {
            // A oneshot that remained active has no process left, but its ExecStop= is how it undoes what it did.
            await RunCommandsAsync(unit, unit.ExecStop, unit.TimeoutStop, "ExecStop").ConfigureAwait(false);
        }

        if (process is not null || exitedActive)
        {
            // Before the cgroup goes: the commands run in it, as systemd runs them.
            await StopPost.RunAsync(_context, unit, exit ?? new ProcessExit(0, null), c => Launch(unit, c)).ConfigureAwait(false);
        }

        // KillMode=process leaves what the main process forked running, so their cgroup stays while they do (and is
        // taken again by the next start).
        if (unit.KillMode != KillMode.Process || !await _cgroup.HoldsProcessesAsync().ConfigureAwait(false))
        {
            await _cgroup.ReleaseAsync().ConfigureAwait(false);
        }

        CloseNotifications();
        lock (_sync)
        {
            _process = null;
            _state.Stopped(exit, manual);
        }

        Changed();
    }

    /// <summary>
    /// Runs ExecStartPre, starts the main process (or runs a oneshot's commands), runs ExecStartPost.
    /// Returns how the attempt ends: the main process's exit task, or an already known ending.
    /// </summary>
    private async Task<Task<ProcessExit>> LaunchAsync(int generation)
    {
        var unit = _unit;
        var began = _context.Time.GetTimestamp();
        _launchFailed = true;
        lock (_sync)
        {
            _state.BeginLaunch();
        }

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
            RecordFailureReason(generation, unsupported);
            _context.Logger.ServiceStartFailed(Name, unsupported);
            return Task.FromResult(new ProcessExit(ExitExec, null) { Protocol = unsupported });
        }

        if (OpenNotifications(unit) is { } notifyFailure)
        {
            RecordFailureReason(generation, notifyFailure);
            return Task.FromResult(new ProcessExit(ExitExec, null));
        }

        var pre = await RunCommandsAsync(unit, unit.ExecStartPre, unit.TimeoutStart, "ExecStartPre").ConfigureAwait(false);
        if (pre is not null)
        {
            return Task.FromResult(pre);
        }

        if (unit.Type == ServiceType.Oneshot)
        {
            MarkStarted(generation, process: null, began);
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
            RecordFailureReason(generation, ex.Message);
            _context.Logger.ServiceStartFailed(Name, ex.Message);
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

        MarkStarted(generation, process, began);
        _context.Logger.ServiceStarted(Name, process.Info.Pid);
        _launchFailed = false;
        WatchHealth(unit);
        ArmWatchdog(unit, process);

        var postFailure = await RunCommandsAsync(unit, unit.ExecStartPost, unit.TimeoutStart, "ExecStartPost").ConfigureAwait(false);
        if (postFailure is not null)
        {
            // systemd fails the start when ExecStartPost fails, and stops what was started.
            _launchFailed = true;
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
                _context.Logger.ServiceFailed(Name, "Type=notify needs the daemon's notification sockets, which this supervisor has none of; it runs as Type=simple");
            }

            CloseNotifications();
            return null;
        }

        try
        {
            _notify ??= new ServiceNotifications(unit, directory, _context.Time, _context.Logger, Changed);
        }
        catch (IOException ex)
        {
            return ex.Message;
        }

        _notify.Begin(unit, _cgroup.Cgroup);
        return null;
    }

    private void CloseNotifications()
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

        lock (_sync)
        {
            if (generation == _generation)
            {
                // Started but not ready: stop and status see its process; the state stays what it was, sub-state starting.
                _process = process;
                _startTime = _context.Time.GetUtcNow();
            }
        }

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
                RecordFailureReason(generation, $"main process {exit} before it sent READY=1");
                _context.Logger.ServiceStartFailed(Name, $"main process {exit} before it sent READY=1");
                return process.Exited;
            case ReadyOutcome.TimedOut:
                var reason = $"no READY=1 within TimeoutStartSec={unit.TimeoutStart.TotalSeconds:0.###}s: the start timed out and the service was stopped";
                RecordFailureReason(generation, reason);
                _context.Logger.ServiceStartFailed(Name, reason);
                var stopped = await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
                return Task.FromResult(stopped with { TimedOut = true });
            default:
                // The stop waiting for the gate takes the service over: this launch's ending is not the restart policy's.
                lock (_sync)
                {
                    _generation++;
                    _state.RecordFailure("stopped before it sent READY=1");
                }

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
        lock (_sync)
        {
            if (generation == _generation)
            {
                _process = started;
                _startTime = _context.Time.GetUtcNow();
            }
        }

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
            lock (_sync)
            {
                _generation++;
                _state.RecordFailure("stopped before the daemon was running");
            }
        }
        else
        {
            RecordFailureReason(generation, outcome.Reason!);
            _context.Logger.ServiceStartFailed(Name, outcome.Reason!);
        }

        return (null, Task.FromResult(outcome.Exit!));
    }

    /// <summary>The main PID shown and recorded: none for a <c>Type=forking</c> service without one (<c>GuessMainPID=no</c>).</summary>
    private static int? MainPid(IServiceProcess? process) =>
        process is null || (OperatingSystem.IsLinux() && process is ForkingProcess { HasMain: false }) ? null : process.Info.Pid;

    /// <summary>
    /// A service taken over from a previous daemon keeps its <c>NOTIFY_SOCKET</c> path: the socket is bound there again
    /// (what was sent meanwhile is lost, as sd_notify allows) and its watchdog starts afresh.
    /// </summary>
    private void ResumeNotifications(UnitFile unit, IServiceProcess process)
    {
        if (OpenNotifications(unit) is { } failure)
        {
            _context.Logger.ServiceFailed(Name, failure);
        }
        else if (OperatingSystem.IsLinux() && _notify is { } notify)
        {
            notify.SetMain(process.Info.Pid);
            ArmWatchdog(unit, process);
        }
    }

    private void AbortPendingStart() => Volatile.Read(ref _startAbort)?.Cancel();

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

    /// <summary>The main process ended: its watchdog stops, and an exit the watchdog caused says so.</summary>
    private ProcessExit NotifiedEnd(int generation, ProcessExit exit)
    {
        lock (_sync)
        {
            if (generation != _generation || !OperatingSystem.IsLinux() || _notify is not { } notify)
            {
                return exit;
            }

            notify.End();
            return notify.Annotate(exit);
        }
    }

    /// <summary>Runs commands in order; returns the first failure (as its exit), or null when all succeeded.</summary>
    private async Task<ProcessExit?> RunCommandsAsync(
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
                    SetShortage(ex.Message);
                    return new ProcessExit(ExitExec, null);
                }

                if (command.IgnoreFailure)
                {
                    continue;
                }

                SetFailureReason(ex.Message);
                return new ProcessExit(ExitExec, null);
            }

            if (!exit.IsSuccess && !command.IgnoreFailure)
            {
                SetFailureReason($"{key} command '{command.CommandLine}' {exit}");
                return exit;
            }
        }

        return null;
    }

    /// <summary><c>$MAINPID</c> for ExecStop= and ExecReload= commands, as systemd sets it while there is a main process.</summary>
    private static Dictionary<string, string> MainPidVariable(IServiceProcess? process) =>
        MainPid(process) is { } pid ? new() { ["MAINPID"] = pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } : [];

    /// <summary>
    /// A launch of one of the unit's commands. Every command joins the service's cgroup, but only the main process's
    /// tree is the cgroup: an ExecStartPre/ExecStartPost/ExecStop command run to completion is stopped as its own
    /// process group and session, never with the main process it runs beside.
    /// </summary>
    private ProcessLaunch Launch(UnitFile unit, UnitCommand command, bool main = false) => new(unit, command)
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

    /// <summary>
    /// Recognises an OOM kill when the process ended: the main process killed by SIGKILL while the cgroup's OOM-kill
    /// counter went up (whatever <c>OOMPolicy=</c> says), or, unless the policy is <c>continue</c>, any OOM kill in the
    /// cgroup since this run was launched (a shell whose child was killed exits 137: the service ran out of memory).
    /// </summary>
    private async Task<ProcessExit> AnnotateAsync(ProcessExit exit)
    {
        if (await _cgroup.TakeNewKillsAsync().ConfigureAwait(false) is not { } fresh)
        {
            return exit;
        }

        var kills = _cgroup.CountKills(fresh);
        var unit = Volatile.Read(ref _unit);

        if (fresh > 0)
        {
            ReportOomKills(unit, fresh, pid: null);
        }

        return kills > 0 && (exit.Signal == 9 || unit.OomPolicy != OomPolicy.Continue) ? exit with { OomKilled = true } : exit;
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

        ReportOomKills(unit, kills, process?.Info.Pid);
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
                await RunCommandsAsync(unit, unit.ExecStop, unit.TimeoutStop, "ExecStop", process).ConfigureAwait(false);
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

    private void ReportOomKills(UnitFile unit, long kills, int? pid)
    {
        var action = unit.OomPolicy switch
        {
            OomPolicy.Continue => "OOMPolicy=continue: the service keeps running",
            OomPolicy.Kill => "OOMPolicy=kill: every process of the service is killed",
            _ => "OOMPolicy=stop: the service is stopped",
        };
        var reason = $"{OomWatch.Reason(unit)}: the OOM killer killed {kills} process(es) of the service; {action}";
        _context.Logger.ServiceOomKilled(Name, reason);
        _context.Metrics?.ServiceOomKilled(Name, kills);
        _context.Events?.Publish(new GitProcEvent { Type = EventTypes.ServiceOomKill, Service = Name, Pid = pid, Reason = reason });
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
                exit = await AnnotateAsync(exit).ConfigureAwait(false);
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

        // The same test as OnEnded's for staying active: a clean end of a RemainAfterExit= oneshot keeps it active.
        if (unit.ExecStopPost.Count > 0 && !(unit.RemainAfterExit && exit.IsClean))
        {
            await StopPost.RunAsync(_context, unit, exit, c => Launch(unit, c)).ConfigureAwait(false);
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

        _context.Metrics?.ServiceExited(Name, exit, ending.Unhealthy);
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

    private void MarkStarted(int generation, IServiceProcess? process, long launchBegan)
    {
        lock (_sync)
        {
            if (generation != _generation)
            {
                return;
            }

            _process = process;
            _startTime = _context.Time.GetUtcNow();
            _state.Started();
        }

        _context.Metrics?.ServiceStarted(Name, _context.Time.GetElapsedTime(launchBegan));
        Changed();
    }

    private void RecordFailureReason(int generation, string reason)
    {
        lock (_sync)
        {
            if (generation == _generation)
            {
                _state.RecordFailure(reason);
            }
        }
    }

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

    /// <summary>The launch could not start for the daemon's own shortage: the outcome OnEnded turns into a retry.</summary>
    private Task<ProcessExit> ShortOfResources(string message)
    {
        SetShortage(message);
        return Task.FromResult(new ProcessExit(ExitExec, null));
    }

    private void SetShortage(string message)
    {
        lock (_sync)
        {
            _state.ShortOfResources(message);
        }
    }

    private void SetFailureReason(string reason)
    {
        lock (_sync)
        {
            _state.RecordFailure(reason);
        }
    }

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
                        Type = EventTypes.ServiceState,
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
