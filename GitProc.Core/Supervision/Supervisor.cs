using GitProc.Dependencies;
using GitProc.Events;
using GitProc.Health;
using GitProc.Logs;
using GitProc.Metrics;
using GitProc.Processes;
using GitProc.Readiness;
using GitProc.ResourceControl;
using GitProc.State;
using GitProc.Targeting;
using GitProc.UnitFiles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Supervision;

/// <summary>
/// The default <see cref="ISupervisor"/>: one <see cref="ServiceController"/> per unit, started in dependency
/// order with independent services in parallel, stopped in reverse order.
/// </summary>
internal sealed class Supervisor : ISupervisor
{
    // A previous run's leftover processes get the defaults: their units may have changed since.
    private const int DefaultKillSignal = 15;
    private static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);
    private static readonly UnitFileOptions LenientUnits = new() { UnknownKeys = UnknownKeyHandling.Warn };

    private readonly IProcessManager _processes;
    private readonly IStateManager _stateManager;
    private readonly IDependencyResolver _resolver;
    private readonly ILogger<Supervisor> _logger;
    private readonly SupervisorContext _context;
    private readonly StateSaver _saver;
    private readonly SemaphoreSlim _applyGate = new(1, 1);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServiceController> _services = new(StringComparer.Ordinal);

    private readonly IHealthMonitor? _health;
    private readonly GitProcMetrics? _metrics;
    private readonly IUnitFileParser _parser;
    private IDependencyGraph _graph;
    private Dictionary<string, ServiceRecord> _recovered = new(StringComparer.Ordinal);
    private string? _appliedCommit;
    private IReadOnlyList<UnitFile> _appliedUnits = [];
    private IReadOnlyList<UnitSnapshot> _appliedSnapshot = [];

    // Set by InitializeAsync: the first apply also starts unchanged services that are not running.
    private bool _startInactiveOnApply;
    private bool _disposed;

    // Set once the state was read (InitializeAsync) or a desired set applied. Until then this supervisor knows nothing
    // worth saving, and writing its empty snapshot would wipe the state of a daemon that still owns the file (a
    // second daemon refused at start-up is disposed without ever initializing).
    private volatile bool _ownsState;

    // The resource controller is always given (where cgroups cannot be had, its Status says why and it hands out none);
    // with ResourceControl.Enabled false the supervisor leaves it unused: no cgroup is asked for, none swept, and a
    // service's status carries no "limits not enforced" note.
    public Supervisor(
        IProcessManager processes,
        IServiceLogs logs,
        IStateManager stateManager,
        IUnitFileParser parser,
        IDependencyResolver resolver,
        IHealthMonitor health,
        IEventStream events,
        GitProcMetrics metrics,
        IResourceController resources,
        IOptions<PathOptions> paths,
        IOptions<TargetingOptions> targeting,
        IOptions<ResourceControlOptions> resourceControl,
        IOptions<HealthOptions> healthOptions,
        TimeProvider timeProvider,
        ILogger<Supervisor>? logger = null)
    {
        _processes = processes;
        _stateManager = stateManager;
        _parser = parser;
        _resolver = resolver;
        _logger = logger ?? NullLogger<Supervisor>.Instance;
        var repository = paths.Value.RepositoryPath;
        _health = health;
        _metrics = metrics;
        _metrics.Observe(this);
        _context = new SupervisorContext(
            processes,
            logs,
            timeProvider,
            _logger,
            Directory.Exists(repository) ? repository : null,
            () => _saver!.Request(),
            token => _saver!.FlushAsync(token),
            resourceControl.Value.Enabled ? resources : null,
            resourceControl.Value.CgroupForEveryService,
            _health,
            healthOptions.Value,
            events,
            _metrics)
        {
            Notify = OperatingSystem.IsLinux() ? new NotifyDirectory(NotifyDirectory.For(paths.Value.SocketPath), _logger) : null,
            Host = HostIdentity.Of(targeting.Value),
            OomPollInterval = resourceControl.Value.OomPollInterval,
        };
        _health.HealthChanged += OnHealthChanged;

        _saver = new StateSaver(stateManager, Snapshot, () => _ownsState, timeProvider, _logger);
        _graph = _resolver.Build([]);
    }

    public async Task<string?> InitializeAsync(CancellationToken cancellationToken = default)
    {
        var state = await _stateManager.LoadAsync(cancellationToken).ConfigureAwait(false);
        if (OperatingSystem.IsLinux())
        {
            // A previous run's sockets: the services taken over below bind theirs again.
            _context.Notify?.Sweep();
        }
        var recovered = new Dictionary<string, ServiceRecord>(state.Services, StringComparer.Ordinal);

        // What ran before becomes the current set again, from the state's copy of the applied units: each service
        // whose process still runs, unchanged, is taken over as it is, so a daemon's crash or upgrade restarts
        // nothing. The first apply then diffs the branch's tip against this set as it would against its own.
        var units = ParseApplied(state.AppliedUnits);
        var graph = _resolver.Build(units);
        var controllers = new Dictionary<string, ServiceController>(StringComparer.Ordinal);
        foreach (var unit in units)
        {
            var controller = new ServiceController(unit, _context);
            if (recovered.Remove(unit.Name, out var record))
            {
                controller.Restore(record);
            }

            controllers[unit.Name] = controller;
        }

        if (!IsValid(graph))
        {
            graph = _resolver.Build([]);
        }

        var attempts = await Task.WhenAll(controllers.Values
            .Where(c => state.Services.ContainsKey(c.Name))
            .Select(async c => (c.Name, Adopted: await c.AdoptAsync(state.Services[c.Name], cancellationToken).ConfigureAwait(false))))
            .ConfigureAwait(false);
        var adopted = attempts.Where(a => a.Adopted).Select(a => a.Name).ToHashSet(StringComparer.Ordinal);

        // Whatever else a previous daemon recorded and still runs (a changed or removed unit, an operator's stop in
        // flight, a state from before units were kept) is stopped, so no service ever runs twice.
        var leftovers = new List<Task>();
        foreach (var service in state.Services.Values)
        {
            if (!adopted.Contains(service.Name) && service.Pid is { } pid && service.ProcessStartTicks is { } ticks
                && _processes.IsSameProcessAlive(pid, ticks))
            {
                _logger.StoppingLeftover(service.Name, pid);
                leftovers.Add(_processes.StopRecordedAsync(pid, ticks, DefaultKillSignal, DefaultStopTimeout, cancellationToken));
            }
        }

        await Task.WhenAll(leftovers).ConfigureAwait(false);

        // Nothing runs unmanaged: processes in cgroups of services not taken over are stopped, and the cgroups removed.
        if (_context.Resources is { } resources)
        {
            var keep = controllers.Values.Where(c => c.HasCgroup).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            try
            {
                foreach (var leftover in await resources.SweepAsync(keep, cancellationToken).ConfigureAwait(false))
                {
                    // An empty one (a finished oneshot's, say) held nothing unmanaged: no warning for it.
                    if (leftover.Pids.Count == 0)
                    {
                        _logger.EmptyCgroupRemoved(leftover.Service);
                    }
                    else
                    {
                        _logger.LeftoverCgroupSwept(leftover.Service, leftover.Pids.Count, string.Join(' ', leftover.Pids));
                    }
                }
            }
            catch (GitProcException ex)
            {
                _logger.SweepFailed(ex.Message);
            }
        }

        lock (_lock)
        {
            foreach (var (name, controller) in controllers)
            {
                _services[name] = controller;
            }

            _graph = graph;
            _recovered = recovered;
            _appliedCommit = state.AppliedCommit;
            _appliedUnits = units;
            _appliedSnapshot = [.. state.AppliedUnits];
            _startInactiveOnApply = true;
        }

        _ownsState = true;
        if (adopted.Count > 0)
        {
            _saver.Request();
        }

        return state.AppliedCommit;
    }

    /// <summary>The previous run's applied units, parsed again; one that no longer parses is left out (its process is stopped).</summary>
    private List<UnitFile> ParseApplied(IReadOnlyList<UnitSnapshot> snapshots)
    {
        var units = new List<UnitFile>(snapshots.Count);
        foreach (var snapshot in snapshots)
        {
            try
            {
                UnitFile unit;
                try
                {
                    unit = _parser.Parse(snapshot.FileName, snapshot.Content);
                }
                catch (UnitFileParseException)
                {
                    // A unit this daemon accepted before is not dropped (and its process stopped) because the parser
                    // became stricter since, as an upgrade can make it (unknown keys became errors); new commits are
                    // still checked strictly.
                    unit = UnitFileParser.Parse(snapshot.FileName, snapshot.Content, LenientUnits);
                }

                if (units.All(u => u.Name != unit.Name))
                {
                    units.Add(unit);
                }
            }
            catch (UnitFileParseException ex)
            {
                _logger.SnapshotUnitInvalid(snapshot.FileName, ex.Message);
            }
        }

        return units;
    }

    private static bool IsValid(IDependencyGraph graph)
    {
        try
        {
            _ = graph.GetStartOrder();
            return true;
        }
        catch (GitProcException)
        {
            return false;
        }
    }

    public ApplyPlan Plan(IReadOnlyCollection<UnitFile> units)
    {
        var (desired, graph) = Desired(units);
        lock (_lock)
        {
            return PlanCore(desired, graph, _services, _recovered, _startInactiveOnApply, _context.Host);
        }
    }

    public async Task<ApplyResult> ApplyAsync(IReadOnlyCollection<UnitFile> units, string? commit = null, CancellationToken cancellationToken = default)
    {
        // Validated whole before anything is touched: a cycle or a missing Requires rejects it all.
        var (desired, graph) = Desired(units);
        var began = _context.Time.GetTimestamp();

        await _applyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _ownsState = true;

            // The plan is taken under the apply gate, and the apply follows it: what a plan says is what happens.
            ApplyPlan plan;
            lock (_lock)
            {
                plan = PlanCore(desired, graph, _services, _recovered, _startInactiveOnApply, _context.Host);
            }

            var removed = plan.Of(PlannedAction.Stop).Where(n => !desired.ContainsKey(n)).ToList();
            var changed = plan.Of(PlannedAction.Restart);

            // Every service whose unit changed takes the new one, whatever the plan does with it: restarted, or moved on or
            // off this host by its ConditionHost=, or left stopped here because it runs elsewhere before and after.
            List<string> replaced;
            lock (_lock)
            {
                replaced = [.. desired.Values.Where(u => _services.TryGetValue(u.Name, out var c) && !UnitDefinition.Same(c.Unit, u)).Select(u => u.Name)];
            }

            // Stopped here but kept (status shows why): a service whose condition no longer holds on this host.
            var movedAway = plan.Of(PlannedAction.Stop).Where(desired.ContainsKey).ToList();

            // Removed services stop in the old graph's reverse order and are forgotten.
            await StopInOrderAsync(_graph, removed, async controller =>
            {
                await controller.DisposeAsync().ConfigureAwait(false);
                lock (_lock)
                {
                    _services.Remove(controller.Name);
                }
            }).ConfigureAwait(false);

            // Changed services stop with their old definition (dependents first), then take the new one.
            await StopInOrderAsync(_graph, [.. replaced.Union(movedAway, StringComparer.Ordinal)], controller => replaced.Contains(controller.Name, StringComparer.Ordinal)
                    ? controller.ReplaceUnitAsync(desired[controller.Name], CancellationToken.None)
                    : controller.StopAsync(StopMode.Daemon, CancellationToken.None))
                .ConfigureAwait(false);

            lock (_lock)
            {
                foreach (var unit in desired.Values.Where(u => !_services.ContainsKey(u.Name)))
                {
                    var controller = new ServiceController(unit, _context);
                    if (_recovered.TryGetValue(unit.Name, out var recorded))
                    {
                        controller.Restore(recorded);
                    }

                    _services[unit.Name] = controller;
                }

                _graph = graph;
                _recovered.Clear();
                _startInactiveOnApply = false;
                _appliedCommit = commit ?? _appliedCommit;
                _appliedUnits = [.. desired.Values];
                _appliedSnapshot = desired.Values.OrderBy(u => u.Name, StringComparer.Ordinal)
                    .Select(u => new UnitSnapshot(u.FileName, UnitDefinition.Render(u)))
                    .ToList();
            }

            await StartInOrderAsync([.. plan.Of(PlannedAction.Start), .. changed], target: null, cancellationToken).ConfigureAwait(false);
            await SaveQuietlyAsync(cancellationToken).ConfigureAwait(false);

            var result = new ApplyResult(plan.Of(PlannedAction.Start), changed, plan.Of(PlannedAction.Stop), plan.Of(PlannedAction.Unchanged));
            _logger.Applied(commit ?? "(units)", result.Started.Count, result.Restarted.Count, result.Stopped.Count);
            _metrics?.Applied(_context.Time.GetElapsedTime(began));
            return result;
        }
        finally
        {
            _applyGate.Release();
        }
    }

    /// <summary>The units by name and their dependency graph, checked whole (a cycle or a missing Requires throws).</summary>
    private (Dictionary<string, UnitFile> Desired, IDependencyGraph Graph) Desired(IReadOnlyCollection<UnitFile> units)
    {
        ArgumentNullException.ThrowIfNull(units);
        var desired = new Dictionary<string, UnitFile>(StringComparer.Ordinal);
        foreach (var unit in units)
        {
            if (!desired.TryAdd(unit.Name, unit))
            {
                throw new ArgumentException($"Two units are named {unit.Name}.", nameof(units));
            }
        }

        var graph = _resolver.Build(desired.Values.OrderBy(u => u.Name, StringComparer.Ordinal));
        _ = graph.GetStartOrder();
        return (desired, graph);
    }

    /// <summary>
    /// What applying <paramref name="desired"/> does: removed units stop, added ones start (unless a previous run's
    /// operator stopped them), changed ones restart; then every service not running that those starts pull in through
    /// their dependencies starts too (and, on the first apply after a daemon restart, every one of the previous run
    /// that is not running), except where an operator stopped it. A unit whose <c>ConditionHost=</c> is not met on
    /// <paramref name="host"/> is not started (and stopped if it runs), with the reason. Called under <see cref="_lock"/>.
    /// </summary>
    private static ApplyPlan PlanCore(
        Dictionary<string, UnitFile> desired,
        IDependencyGraph graph,
        Dictionary<string, ServiceController> current,
        Dictionary<string, ServiceRecord> recovered,
        bool startInactive,
        HostIdentity host)
    {
        var changes = new Dictionary<string, PlannedChange>(StringComparer.Ordinal);
        foreach (var name in current.Keys.Where(n => !desired.ContainsKey(n)))
        {
            changes[name] = new PlannedChange(name, PlannedAction.Stop, []);
        }

        var unmet = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var unit in desired.Values)
        {
            var name = unit.Name;
            if (HostTargeting.Unmet(unit, host) is { } reason)
            {
                // Not for this host: stopped if it runs (an adopted process, or a commit moved it away), else left stopped.
                unmet[name] = reason;
                changes[name] = new PlannedChange(name, current.TryGetValue(name, out var running) && running.IsActive ? PlannedAction.Stop : PlannedAction.Unchanged, [], reason);
                continue;
            }

            changes[name] = !current.TryGetValue(name, out var controller)
                ? recovered.TryGetValue(name, out var record) && record.ManuallyStopped
                    ? new PlannedChange(name, PlannedAction.Unchanged, [], StoppedByOperator)
                    : new PlannedChange(name, PlannedAction.Start, [])
                : UnitDefinition.Same(controller.Unit, unit)
                    ? new PlannedChange(name, PlannedAction.Unchanged, [])
                    : controller.UnmetCondition is not null && !controller.IsActive
                        ? new PlannedChange(name, PlannedAction.Start, [], HostTargeting.NowMet(host, UnitDefinition.ChangedKeys(controller.Unit, unit)))
                        : new PlannedChange(name, PlannedAction.Restart, UnitDefinition.ChangedKeys(controller.Unit, unit));
        }

        var starting = changes.Values.Where(c => c.Action is PlannedAction.Start or PlannedAction.Restart).Select(c => c.Service).ToList();
        var inactive = desired.Keys
            .Where(n => current.TryGetValue(n, out var c) && changes[n].Action == PlannedAction.Unchanged && !c.IsActive && !unmet.ContainsKey(n))
            .ToHashSet(StringComparer.Ordinal);
        var wanted = startInactive ? [.. starting, .. inactive] : starting;
        foreach (var name in wanted.Count == 0 ? [] : graph.GetStartOrder(wanted))
        {
            if (!inactive.Contains(name))
            {
                continue;
            }

            changes[name] = current[name].ManuallyStopped
                ? new PlannedChange(name, PlannedAction.Unchanged, [], StoppedByOperator)
                : new PlannedChange(name, PlannedAction.Start, [], startInactive ? "not running" : "a dependency of a service being started");
        }

        return new ApplyPlan([.. changes.Values.OrderBy(c => c.Service, StringComparer.Ordinal)]);
    }

    private const string StoppedByOperator = "stopped by an operator";

    public async Task<ServiceSnapshot> StartAsync(string service, CancellationToken cancellationToken = default)
    {
        var controller = Get(service);
        if (controller.IsActive)
        {
            throw controller.AlreadyActive();
        }

        // Refused before the operator's choice is recorded: nothing about the service changes.
        if (controller.UnmetCondition is not null)
        {
            throw controller.NotForThisHost();
        }

        await controller.RecordChoiceAsync(stopped: false, cancellationToken).ConfigureAwait(false);
        await StartInOrderAsync([service], target: service, cancellationToken).ConfigureAwait(false);
        await SaveQuietlyAsync(cancellationToken).ConfigureAwait(false);
        return controller.Snapshot();
    }

    public async Task<ServiceSnapshot> StopAsync(string service, CancellationToken cancellationToken = default)
    {
        return await Get(service).StopAsync(StopMode.Operator, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ServiceSnapshot> RestartAsync(string service, CancellationToken cancellationToken = default)
    {
        var controller = Get(service);
        if (controller.UnmetCondition is not null)
        {
            throw controller.NotForThisHost();
        }

        await controller.RecordChoiceAsync(stopped: false, cancellationToken).ConfigureAwait(false);
        await controller.StopAsync(StopMode.Daemon, cancellationToken).ConfigureAwait(false);
        await StartInOrderAsync([service], target: service, cancellationToken).ConfigureAwait(false);
        await SaveQuietlyAsync(cancellationToken).ConfigureAwait(false);
        return controller.Snapshot();
    }

    public Task<ServiceSnapshot> ReloadAsync(string service, CancellationToken cancellationToken = default) =>
        Get(service).ReloadAsync(cancellationToken);

    /// <summary>
    /// Saves what changed (new pids, above all, so a daemon that dies right after answering adopts the new process
    /// instead of restarting it). A failure is not the command's: the operator's choice was saved before acting, and
    /// the failure is logged and shown by <c>status</c> until a save succeeds.
    /// </summary>
    private async Task SaveQuietlyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _saver.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Logged by the saver, shown by status.
        }
    }

    public ServiceSnapshot GetStatus(string service) => WithStateError(Get(service).Snapshot());

    public async Task<ServiceSnapshot> GetStatusAsync(string service, CancellationToken cancellationToken = default)
    {
        var controller = Get(service);
        var usage = await controller.GetUsageAsync(cancellationToken).ConfigureAwait(false);
        var status = WithStateError(controller.Snapshot());
        return usage is null
            ? status
            : status with { MemoryBytes = usage.MemoryBytes, CpuTime = usage.CpuTime, CpuPercent = usage.CpuPercent, TaskCount = usage.TaskCount };
    }

    private void OnHealthChanged(object? sender, HealthChangedEventArgs e)
    {
        if (e.NewState != HealthState.Unhealthy)
        {
            return;
        }

        ServiceController? controller;
        lock (_lock)
        {
            _services.TryGetValue(e.Service, out controller);
        }

        // Off the health loop: the restart waits for the service's gate and for its process to stop.
        if (controller is not null)
        {
            _ = Task.Run(controller.RestartUnhealthyAsync);
        }
    }

    public IReadOnlyList<UnitFile> AppliedUnits
    {
        get
        {
            lock (_lock)
            {
                return _appliedUnits;
            }
        }
    }

    public StateSaveError? LastStateError => _saver.LastError;

    public IReadOnlyList<ServiceSnapshot> ListServices()
    {
        lock (_lock)
        {
            return _services.Values
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .Select(c => c.Snapshot())
                .ToList();
        }
    }

    public async Task StopAllAsync(CancellationToken cancellationToken = default)
    {
        await _applyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            List<string> all;
            lock (_lock)
            {
                all = [.. _services.Keys];
            }

            await StopInOrderAsync(_graph, all, c => c.StopAsync(StopMode.Daemon, CancellationToken.None))
                .ConfigureAwait(false);
            await SaveQuietlyAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _applyGate.Release();
        }
    }

    public async Task HandOverAsync(CancellationToken cancellationToken = default)
    {
        // A state that cannot be written now would leave the next daemon with stale pids: fail before anything stops.
        await _saver.FlushAsync(cancellationToken).ConfigureAwait(false);

        // For good: no apply, command, restart or health action after this point.
        await _applyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        List<ServiceController> controllers;
        lock (_lock)
        {
            controllers = [.. _services.Values];
        }

        await Task.WhenAll(controllers.Select(c => c.FreezeAsync())).ConfigureAwait(false);
        if (_health is not null)
        {
            _health.HealthChanged -= OnHealthChanged;
        }

        // From here exits stay unreaped and output stays in its pipes, for the next daemon.
        _processes.Suspend();
        await Task.WhenAll(controllers.Select(c => c.DetachOutputAsync())).ConfigureAwait(false);
        await SaveQuietlyAsync(CancellationToken.None).ConfigureAwait(false);
        _disposed = true;
        _logger.HandedOver(controllers.Count(c => c.IsActive));
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        if (_health is not null)
        {
            _health.HealthChanged -= OnHealthChanged;
        }

        await StopAllAsync(CancellationToken.None).ConfigureAwait(false);
        _disposed = true;
        if (OperatingSystem.IsLinux())
        {
            _context.Notify?.Dispose();
        }

        await _saver.DisposeAsync().ConfigureAwait(false);
    }

    private ServiceSnapshot WithStateError(ServiceSnapshot status) =>
        _saver.LastError is { } error ? status with { StateError = error.Message, StateErrorSince = error.Since } : status;

    private static List<string> Sorted(List<string> names) => [.. names.Order(StringComparer.Ordinal)];

    /// <summary>Completes once the service's supervise loops have ended: it changes no more but by a command.</summary>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    internal Task SupervisionEnded(string service) => Get(service).SupervisionEnded;

    /// <summary>The next poll of the service's OOM watch, for a test to see that a poll changed nothing; null while none polls.</summary>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    internal Task? NextOomPoll(string service) => Get(service).NextOomPoll;

    private ServiceController Get(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        lock (_lock)
        {
            return _services.TryGetValue(service, out var controller)
                ? controller
                : throw new ServiceNotFoundException(service);
        }
    }

    /// <summary>
    /// Starts <paramref name="names"/> and what they pull in, each as soon as its dependencies are up, so
    /// independent services start in parallel. A service whose required dependency did not come up fails
    /// without starting. <paramref name="target"/> is an operator's target, whose failure is reported.
    /// </summary>
    private async Task StartInOrderAsync(IReadOnlyCollection<string> names, string? target, CancellationToken cancellationToken)
    {
        if (names.Count == 0)
        {
            return;
        }

        IDependencyGraph graph;
        Dictionary<string, ServiceController> services;
        lock (_lock)
        {
            graph = _graph;
            services = new Dictionary<string, ServiceController>(_services, StringComparer.Ordinal);
        }

        var order = graph.GetStartOrder(names);

        // Only a service something here depends on is worth waiting on for health.
        var awaited = new HashSet<string>(order.SelectMany(graph.GetDependencies), StringComparer.Ordinal);
        var started = new Dictionary<string, Task<bool>>(StringComparer.Ordinal);
        foreach (var name in order)
        {
            if (!services.TryGetValue(name, out var controller))
            {
                continue;
            }

            var dependencies = graph.GetDependencies(name)
                .Where(started.ContainsKey)
                .Select(d => (Name: d, Up: started[d]))
                .ToList();
            var mode = name == target
                ? StartMode.Operator
                : target is not null ? StartMode.Dependency : StartMode.Apply;
            started[name] = StartOneAsync(controller, dependencies, mode, awaited.Contains(name), cancellationToken);
        }

        await Task.WhenAll(started.Values).ConfigureAwait(false);
    }

    private async Task<bool> StartOneAsync(
        ServiceController controller,
        List<(string Name, Task<bool> Up)> dependencies,
        StartMode mode,
        bool hasDependents,
        CancellationToken cancellationToken)
    {
        await Task.WhenAll(dependencies.Select(d => d.Up)).ConfigureAwait(false);
        foreach (var (name, up) in dependencies)
        {
            if (!up.Result && controller.Unit.Requires.Contains(name, StringComparer.Ordinal))
            {
                var reason = $"required dependency {name} is not running";
                await controller.FailAsync(ServiceSubState.DependencyFailed, reason, cancellationToken).ConfigureAwait(false);
                if (mode == StartMode.Operator)
                {
                    throw new ServiceOperationException(controller.Name, $"Service {controller.Name} failed to start: {reason}") { Code = GitProcErrorCodes.StartFailed };
                }

                return false;
            }
        }

        // While applying, a service an operator stopped stays stopped and a running one is left alone
        // (StartMode.Apply); an operator's start brings its dependencies up whatever their state.
        try
        {
            var status = await controller.StartAsync(mode, cancellationToken).ConfigureAwait(false);

            // A service that does not run on this host is no failure of its dependents (systemd: a failed condition
            // skips the unit, and what requires it still starts); nothing of it will ever be healthy here.
            return status.SubState == ServiceSubStateText.Condition
                || (IsUp(status) && (!hasDependents || await WaitHealthyAsync(controller, cancellationToken).ConfigureAwait(false)));
        }
        catch (ServiceOperationException) when (mode != StartMode.Operator)
        {
            return false;
        }
    }

    /// <summary>
    /// A service with a health check is up for its dependents once healthy. The wait is bounded by the start
    /// period plus the checks needed for a verdict, so a dependency that never turns healthy cannot hold a whole
    /// apply (or the daemon's start-up) forever.
    /// </summary>
    private async Task<bool> WaitHealthyAsync(ServiceController controller, CancellationToken cancellationToken)
    {
        var unit = controller.Unit;
        if (_health is null || unit.HealthCheckUrl is null)
        {
            return true;
        }

        var options = _context.HealthOptions;
        var bound = options.StartPeriod + ((unit.HealthCheckInterval + unit.HealthCheckTimeout) * (unit.HealthCheckRetries + 1));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(bound);
        try
        {
            await _health.WaitHealthyAsync(unit.Name, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.NotHealthyInTime(unit.Name);
            return false;
        }
    }

    private static bool IsUp(ServiceSnapshot status) =>
        status.Status == ServiceStatus.Running || status.SubState == ServiceSubStateText.Exited;

    /// <summary>Stops services so that each stops only after everything that depends on it has stopped.</summary>
    private async Task StopInOrderAsync(IDependencyGraph graph, IReadOnlyCollection<string> names, Func<ServiceController, Task> stop)
    {
        if (names.Count == 0)
        {
            return;
        }

        Dictionary<string, ServiceController> services;
        lock (_lock)
        {
            services = new Dictionary<string, ServiceController>(_services, StringComparer.Ordinal);
        }

        var selected = new HashSet<string>(names, StringComparer.Ordinal);
        var order = graph.GetStopOrder(names).Where(selected.Contains).ToList();
        var placed = new HashSet<string>(order, StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (placed.Add(name))
            {
                order.Add(name);
            }
        }

        // Who depends on whom, among the services being stopped.
        var dependents = order.ToDictionary(n => n, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var name in order)
        {
            foreach (var dependency in SafeDependencies(graph, name))
            {
                if (dependents.TryGetValue(dependency, out var list))
                {
                    list.Add(name);
                }
            }
        }

        var stopped = new Dictionary<string, Task>(StringComparer.Ordinal);
        foreach (var name in order)
        {
            var waitFor = dependents[name].Where(stopped.ContainsKey).Select(d => stopped[d]).ToList();
            stopped[name] = services.TryGetValue(name, out var controller)
                ? StopAfterAsync(waitFor, controller, stop)
                : Task.CompletedTask;
        }

        await Task.WhenAll(stopped.Values).ConfigureAwait(false);
    }

    private static IReadOnlyList<string> SafeDependencies(IDependencyGraph graph, string name)
    {
        try
        {
            return graph.GetDependencies(name);
        }
        catch (GitProcException)
        {
            return [];
        }
    }

    private static async Task StopAfterAsync(List<Task> dependentsStopped, ServiceController controller, Func<ServiceController, Task> stop)
    {
        await Task.WhenAll(dependentsStopped).ConfigureAwait(false);
        await stop(controller).ConfigureAwait(false);
    }

    private SupervisorState Snapshot()
    {
        lock (_lock)
        {
            var services = new Dictionary<string, ServiceRecord>(_recovered, StringComparer.Ordinal);
            foreach (var (name, controller) in _services)
            {
                services[name] = controller.ToState();
            }

            return new SupervisorState { AppliedCommit = _appliedCommit, Services = services, AppliedUnits = _appliedSnapshot };
        }
    }
}
