using System.Diagnostics.Metrics;
using System.Reflection;
using GitProc.Delivery;
using GitProc.Health;
using GitProc.Processes;
using GitProc.Reconciliation;
using GitProc.State;
using GitProc.Supervision;

namespace GitProc.Metrics;

/// <summary>
/// GitProc's instruments, on the meter <see cref="MeterName"/> made by the application's
/// <see cref="IMeterFactory"/> where it has one, so an embedding application's OpenTelemetry pipeline (<c>AddMeter("GitProc")</c>)
/// exports them as the daemon's <c>/metrics</c> does. Events (starts, exits, checks, applies, fetches) are recorded by
/// the components where they happen; states (up, restarts, commits, cgroup usage) are observed when a reader collects,
/// from the supervisor and reconciler that attach themselves with <see cref="Observe(ISupervisor)"/>.
/// docs/metrics.md lists every instrument with its Prometheus name.
/// </summary>
internal sealed class GitProcMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "GitProc";

    // All callbacks of one collection share one list of the services: it is reused this long.
    private static readonly TimeSpan SnapshotMaxAge = TimeSpan.FromMilliseconds(100);

    private static readonly double[] StartBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    private static readonly double[] CheckBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] ApplyBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    private static readonly (ServiceStatus Status, string Label)[] States =
        [(ServiceStatus.Running, "running"), (ServiceStatus.Stopped, "stopped"), (ServiceStatus.Failed, "failed")];

    private readonly TimeProvider _time;
    private readonly string _branch;
    private readonly Counter<long> _starts;
    private readonly Counter<long> _exits;
    private readonly Counter<long> _oomKills;
    private readonly Histogram<double> _startDuration;
    private readonly Counter<long> _checks;
    private readonly Histogram<double> _checkDuration;
    private readonly Counter<long> _commits;
    private readonly Histogram<double> _applyDuration;
    private readonly Counter<long> _fetches;
    private readonly Lock _lock = new();
    private readonly Meter? _ownMeter;

    private ISupervisor? _supervisor;
    private IReconciler? _reconciler;
    private string? _tip;
    private (long Taken, IReadOnlyList<ServiceSnapshot> Services)? _snapshot;
    private (long Taken, List<ServiceSnapshot> Services)? _usage;
    private DateTimeOffset? _lastFetchSuccess;
    private DateTimeOffset? _lastFetchFailure;

    /// <param name="options">The watched branch, the label of the commit instruments.</param>
    /// <param name="time">The clock of durations and ages.</param>
    /// <param name="meterFactory">
    /// The application's meter factory (the Generic Host registers one); without one the meter is this object's own,
    /// still named <see cref="MeterName"/> for any listener, and disposed with it.
    /// </param>
    public GitProcMetrics(Microsoft.Extensions.Options.IOptions<Targeting.TargetingOptions> options, TimeProvider time, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _branch = options.Value.WatchBranch;
        var meterOptions = new MeterOptions(MeterName) { Version = Version };
        Meter meter;
        if (meterFactory is null)
        {
            meter = _ownMeter = new Meter(meterOptions);
        }
        else
        {
            meter = meterFactory.Create(meterOptions);
        }

        MeterScope = meter.Scope;


        meter.CreateObservableGauge("gitproc.build.info", () => new Measurement<int>(1, Tag("version", Version)),
            description: "The running GitProc's version; always 1.");

        // Services: what the supervisor shows (status, list), observed when collected.
        meter.CreateObservableGauge("gitproc.service.up", () => PerService(s => s.Status == ServiceStatus.Running ? 1 : 0),
            description: "Whether the service's main process runs (1) or not (0).");
        meter.CreateObservableGauge("gitproc.service.state", ObserveStates,
            description: "The service's state (running, stopped, failed): 1 for the current one, 0 for the others.");
        meter.CreateObservableCounter("gitproc.service.restarts", () => PerService(s => s.RestartCount), unit: "{restart}",
            description: "Automatic restarts (after an exit, or an unhealthy verdict) since the daemon first started the service, as status shows.");
        meter.CreateObservableGauge("gitproc.service.start_time", ObserveStartTimes, unit: "s",
            description: "When the service's current (or last) process started, in Unix time.");
        meter.CreateObservableGauge("gitproc.service.last_exit_code", ObserveLastExitCodes,
            description: "The exit code of the service's last process (128 + signal when a signal ended it).");
        meter.CreateObservableGauge("gitproc.service.healthy", ObserveHealth,
            description: "For a service with a health check: 1 when the last verdict is healthy, 0 when unhealthy or not given yet.");
        _starts = meter.CreateCounter<long>("gitproc.service.starts", unit: "{start}",
            description: "Starts of the service's main process (or a oneshot's commands): first starts, operator starts and automatic restarts.");
        _exits = meter.CreateCounter<long>("gitproc.service.exits", unit: "{exit}",
            description: "Ends of the service's main process the daemon did not ask for, by reason: success, exit-code, signal, oom-kill, watchdog, timeout, unhealthy, unknown.");
        _oomKills = meter.CreateCounter<long>("gitproc.service.oom_kills", unit: "{process}",
            description: "Processes of the service (any in its cgroup, not only the main one) the kernel's OOM killer killed, whatever OOMPolicy= then did.");
        _startDuration = meter.CreateHistogram("gitproc.service.start.duration", unit: "s",
            description: "From the start of a launch (ExecStartPre included) until the main process runs.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = StartBuckets });

        // Cgroups: read through the supervisor's one-second cache of each service's cgroup.
        meter.CreateObservableGauge("gitproc.service.memory", () => ObserveUsage(s => s.MemoryBytes), unit: "By",
            description: "Memory charged to the service's cgroup, page cache included.");
        meter.CreateObservableCounter("gitproc.service.cpu", () => ObserveUsage(s => s.CpuTime?.TotalSeconds), unit: "s",
            description: "CPU time used by every process that ran in the service's cgroup.");
        meter.CreateObservableGauge("gitproc.service.tasks", () => ObserveUsage(s => s.TaskCount), unit: "{task}",
            description: "Processes and threads in the service's cgroup.");

        _checks = meter.CreateCounter<long>("gitproc.health.checks", unit: "{check}",
            description: "Health checks made, by result (success, failure).");
        _checkDuration = meter.CreateHistogram("gitproc.health.check.duration", unit: "s",
            description: "How long a health check took, until its answer or its timeout.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CheckBuckets });

        // Commits: what the reconciler shows (status, list, history).
        meter.CreateObservableGauge("gitproc.commit.applied.info", ObserveApplied,
            description: "The applied commit of the watched branch; always 1.");
        meter.CreateObservableGauge("gitproc.commit.rejected.info", ObserveRejected,
            description: "While the branch tip is a rejected commit (an invalid unit, a cycle, a missing Requires, an untrusted signature): that commit and the file at fault; always 1.");
        meter.CreateObservableGauge("gitproc.commit.rolled_back.info", ObserveRolledBack,
            description: "While the newest commit the daemon saw is one rolled back after failing verification: that commit and the one restored; always 1.");
        meter.CreateObservableGauge("gitproc.branch.tip.info", ObserveTip,
            description: "The tip of the watched branch when the daemon last read it; always 1.");
        meter.CreateObservableGauge("gitproc.branch.tip.applied", ObserveOnTip,
            description: "Whether the applied commit is the branch tip the daemon last read (1) or not (0: rejected, rolled back, or being applied).");
        _commits = meter.CreateCounter<long>("gitproc.commits", unit: "{commit}",
            description: "Commits by what became of them: applied (and verified), rejected, rolled_back, superseded.");
        _applyDuration = meter.CreateHistogram("gitproc.apply.duration", unit: "s",
            description: "How long applying a set of units took (a commit, a rollback, the state at start-up): stops, starts and waits for dependencies' health.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ApplyBuckets });

        _fetches = meter.CreateCounter<long>("gitproc.git.fetches", unit: "{fetch}",
            description: "Fetches of the remote (Git:RemoteUrl), by result (success, failure).");
        meter.CreateObservableGauge("gitproc.git.fetch.last.timestamp", ObserveLastFetch, unit: "s",
            description: "When a fetch of the remote last ended with each result (success, failure), in Unix time.");
        meter.CreateObservableGauge("gitproc.git.fetch.consecutive_failures", ObserveFetchFailures,
            description: "Failed fetches of the remote since the last success (the retry backoff's attempt count); 0 while fetching works.");
    }

    /// <summary>The version the meter and <c>gitproc_build_info</c> report.</summary>
    public static string Version { get; } =
        typeof(GitProcMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "unknown";

    /// <summary>Disposes the meter when it is this object's own; a factory's meters are the factory's to dispose.</summary>
    /// <summary>The scope of this object's meter (the application's meter factory, or none), for an exporter to listen to it alone.</summary>
    internal object? MeterScope { get; }

    public void Dispose() => _ownMeter?.Dispose();

    /// <summary>The supervisor whose services the observed instruments report (the one the container made).</summary>
    public void Observe(ISupervisor supervisor) => Volatile.Write(ref _supervisor, supervisor);

    /// <summary>The reconciler whose commits the observed instruments report.</summary>
    public void Observe(IReconciler reconciler) => Volatile.Write(ref _reconciler, reconciler);

    /// <summary>A service's main process runs (or a oneshot's commands begin), <paramref name="elapsed"/> after its launch began.</summary>
    public void ServiceStarted(string service, TimeSpan elapsed)
    {
        var tag = Tag("service", service);
        _starts.Add(1, tag);
        _startDuration.Record(elapsed.TotalSeconds, tag);
    }

    /// <summary>A service's main process ended without the daemon asking (a stop is not counted).</summary>
    public void ServiceExited(string service, ProcessExit exit, bool unhealthy) =>
        _exits.Add(1, Tag("service", service), Tag("reason", ExitReason(exit, unhealthy)));

    /// <summary>The OOM killer killed <paramref name="kills"/> processes in the service's cgroup.</summary>
    public void ServiceOomKilled(string service, long kills) => _oomKills.Add(kills, Tag("service", service));

    /// <summary>The reason label of an exit, in systemd's words for a service's result.</summary>
    internal static string ExitReason(ProcessExit exit, bool unhealthy) =>
        unhealthy ? "unhealthy"
        : exit.OomKilled ? "oom-kill"
        : exit.Watchdog ? "watchdog"
        : exit.TimedOut ? "timeout"
        : exit.Protocol is not null ? "protocol"
        : !exit.IsKnown ? "unknown"
        : exit.ExitCode == 0 ? "success"
        : exit.ExitCode is not null ? "exit-code"
        : "signal";

    public void HealthChecked(string service, bool success, TimeSpan elapsed)
    {
        var tag = Tag("service", service);
        _checks.Add(1, tag, Tag("result", success ? "success" : "failure"));
        _checkDuration.Record(elapsed.TotalSeconds, tag);
    }

    /// <summary>A set of units was applied in <paramref name="elapsed"/>.</summary>
    public void Applied(TimeSpan elapsed) => _applyDuration.Record(elapsed.TotalSeconds);

    /// <summary>A commit's record reached <paramref name="result"/> (counted once per commit and result).</summary>
    public void CommitResult(DeliveryResult result)
    {
        var label = result switch
        {
            DeliveryResult.Applied => "applied",
            DeliveryResult.Rejected => "rejected",
            DeliveryResult.RolledBack => "rolled_back",
            DeliveryResult.Superseded => "superseded",
            _ => null,
        };
        if (label is not null)
        {
            _commits.Add(1, Tag("result", label));
        }
    }

    /// <summary>The watched branch was read: its tip (<see langword="null"/> while it has no commit).</summary>
    public void BranchTipRead(string? tip) => Volatile.Write(ref _tip, tip);

    public void Fetched(bool success)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (success)
            {
                _lastFetchSuccess = now;
            }
            else
            {
                _lastFetchFailure = now;
            }
        }

        _fetches.Add(1, Tag("result", success ? "success" : "failure"));
    }

    /// <summary>
    /// Reads every service's cgroup usage now, asynchronously, through the supervisor's one-second cache, for the usage
    /// callbacks of a collection that follows at once: they then never wait on a file. A reader that does not call this
    /// (an OpenTelemetry pipeline) gets the same values, read by the first usage callback of its collection.
    /// </summary>
    public async Task RefreshUsageAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _supervisor) is not { } supervisor)
        {
            return;
        }

        var usage = new List<ServiceSnapshot>();
        foreach (var service in supervisor.ListServices().Where(s => s.LimitsEnforced))
        {
            try
            {
                usage.Add(await supervisor.GetStatusAsync(service.Name, cancellationToken).ConfigureAwait(false));
            }
            catch (ServiceNotFoundException)
            {
                // Removed meanwhile.
            }
        }

        lock (_lock)
        {
            _usage = (_time.GetTimestamp(), usage);
        }
    }

    /// <summary>The services with a cgroup and their usage: one reading shared by the memory, CPU and task callbacks.</summary>
    private List<ServiceSnapshot> Usage()
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_usage is { } cached && _time.GetElapsedTime(cached.Taken, now) < SnapshotMaxAge)
            {
                return cached.Services;
            }
        }

        var usage = new List<ServiceSnapshot>();
        if (Volatile.Read(ref _supervisor) is { } supervisor)
        {
            foreach (var service in Services().Where(s => s.LimitsEnforced))
            {
                try
                {
                    // Completed at once when a status request read the cgroup less than a second ago.
                    usage.Add(supervisor.GetStatusAsync(service.Name).GetAwaiter().GetResult());
                }
                catch (ServiceNotFoundException)
                {
                    // Removed meanwhile.
                }
            }
        }

        lock (_lock)
        {
            _usage = (now, usage);
        }

        return usage;
    }

    private IReadOnlyList<ServiceSnapshot> Services()
    {
        if (Volatile.Read(ref _supervisor) is not { } supervisor)
        {
            return [];
        }

        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_snapshot is { } snapshot && _time.GetElapsedTime(snapshot.Taken, now) < SnapshotMaxAge)
            {
                return snapshot.Services;
            }
        }

        var services = supervisor.ListServices();
        lock (_lock)
        {
            _snapshot = (now, services);
        }

        return services;
    }

    private IEnumerable<Measurement<int>> PerService(Func<ServiceSnapshot, int> value) =>
        Services().Select(s => new Measurement<int>(value(s), Tag("service", s.Name)));

    private IEnumerable<Measurement<int>> ObserveStates()
    {
        foreach (var service in Services())
        {
            foreach (var (status, label) in States)
            {
                yield return new Measurement<int>(service.Status == status ? 1 : 0, Tag("service", service.Name), Tag("state", label));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveStartTimes() =>
        Services().Where(s => s.StartTime is not null)
            .Select(s => new Measurement<double>(s.StartTime!.Value.ToUnixTimeMilliseconds() / 1000.0, Tag("service", s.Name)));

    private IEnumerable<Measurement<int>> ObserveLastExitCodes() =>
        Services().Where(s => s.LastExitCode is not null)
            .Select(s => new Measurement<int>(s.LastExitCode!.Value, Tag("service", s.Name)));

    private IEnumerable<Measurement<int>> ObserveHealth() =>
        Services().Where(s => s.Health is not null)
            .Select(s => new Measurement<int>(s.Health!.State == HealthState.Healthy ? 1 : 0, Tag("service", s.Name)));

    private IEnumerable<Measurement<double>> ObserveUsage(Func<ServiceSnapshot, double?> value)
    {
        foreach (var status in Usage())
        {
            if (value(status) is { } measured)
            {
                yield return new Measurement<double>(measured, Tag("service", status.Name));
            }
        }
    }

    private IEnumerable<Measurement<int>> ObserveApplied() =>
        Volatile.Read(ref _reconciler)?.Status.AppliedCommit is { } commit
            ? [new Measurement<int>(1, Tag("branch", _branch), Tag("commit", commit))]
            : [];

    private IEnumerable<Measurement<int>> ObserveRejected() =>
        Volatile.Read(ref _reconciler)?.Status.Rejected is { } rejected
            ? [new Measurement<int>(1, Tag("branch", _branch), Tag("commit", rejected.Commit), Tag("file", rejected.File ?? ""))]
            : [];

    private IEnumerable<Measurement<int>> ObserveRolledBack() =>
        Volatile.Read(ref _reconciler)?.Status.LastRollback is { } record
            ? [new Measurement<int>(1, Tag("branch", _branch), Tag("commit", record.Commit), Tag("restored", record.RestoredCommit ?? ""))]
            : [];

    private IEnumerable<Measurement<int>> ObserveTip() =>
        Volatile.Read(ref _tip) is { } tip ? [new Measurement<int>(1, Tag("branch", _branch), Tag("commit", tip))] : [];

    private IEnumerable<Measurement<int>> ObserveOnTip() =>
        Volatile.Read(ref _tip) is { } tip && Volatile.Read(ref _reconciler) is { } reconciler
            ? [new Measurement<int>(reconciler.Status.AppliedCommit == tip ? 1 : 0, Tag("branch", _branch))]
            : [];

    private IEnumerable<Measurement<int>> ObserveFetchFailures() =>
        Volatile.Read(ref _reconciler)?.Status.Fetch is { } fetch ? [new Measurement<int>(fetch.ConsecutiveFailures)] : [];

    private IEnumerable<Measurement<double>> ObserveLastFetch()
    {
        DateTimeOffset? success;
        DateTimeOffset? failure;
        lock (_lock)
        {
            (success, failure) = (_lastFetchSuccess, _lastFetchFailure);
        }

        if (success is { } s)
        {
            yield return new Measurement<double>(s.ToUnixTimeMilliseconds() / 1000.0, Tag("result", "success"));
        }

        if (failure is { } f)
        {
            yield return new Measurement<double>(f.ToUnixTimeMilliseconds() / 1000.0, Tag("result", "failure"));
        }
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
