using GitProc.Events;
using GitProc.Health;
using GitProc.Logs;
using GitProc.Metrics;
using GitProc.Processes;
using GitProc.Readiness;
using GitProc.ResourceControl;
using GitProc.Targeting;
using Microsoft.Extensions.Logging;

namespace GitProc.Supervision;

/// <summary>What every <see cref="ServiceController"/> of one supervisor shares.</summary>
internal sealed class SupervisorContext(
    IProcessManager processes,
    IServiceLogs logs,
    TimeProvider time,
    ILogger logger,
    string? defaultWorkingDirectory,
    Action stateChanged,
    Func<CancellationToken, Task> persist,
    IResourceController? resources,
    bool cgroupForEveryService,
    IHealthMonitor? health,
    HealthOptions healthOptions,
    IEventStream? events = null,
    GitProcMetrics? metrics = null)
{
    /// <summary>Where state changes are published; <see langword="null"/> when no event stream is registered.</summary>
    public IEventStream? Events { get; } = events;

    /// <summary>Per-service cgroups; <see langword="null"/> where the platform has none.</summary>
    public IResourceController? Resources { get; } = resources;

    /// <summary>Whether services without limits get a cgroup too (<see cref="ResourceControlOptions.CgroupForEveryService"/>).</summary>
    public bool CgroupForEveryService { get; } = cgroupForEveryService;

    /// <summary>HTTP health checks; <see langword="null"/> when not registered.</summary>
    public IHealthMonitor? Health { get; } = health;

    public HealthOptions HealthOptions { get; } = healthOptions;

    /// <summary>Where starts and exits are counted; <see langword="null"/> when not registered.</summary>
    public GitProcMetrics? Metrics { get; } = metrics;

    public IProcessManager Processes { get; } = processes;

    /// <summary>Where services' notification sockets live (<c>Type=notify</c>, <c>WatchdogSec=</c>); <see langword="null"/> where there are none.</summary>
    public NotifyDirectory? Notify { get; init; }

    public IServiceLogs Logs { get; } = logs;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;

    /// <summary>The working directory of services whose unit sets none: the repository of unit files, when it exists.</summary>
    public string? DefaultWorkingDirectory { get; } = defaultWorkingDirectory;

    /// <summary>What units' <c>ConditionHost=</c> is matched against (<see cref="GitProcOptions.HostName"/>, <see cref="GitProcOptions.MachineId"/>).</summary>
    public required HostIdentity Host { get; init; }

    /// <summary>How often each service cgroup's OOM-kill counter is read (<see cref="ResourceControlOptions.OomPollInterval"/>).</summary>
    public TimeSpan OomPollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Called after any change worth persisting; coalesced by the caller.</summary>
    public Action StateChanged { get; } = stateChanged;

    /// <summary>
    /// Completes once every change made before the call is on disk (group commit with other callers); throws when the
    /// state cannot be written. An operator's command waits for it before acting and before answering.
    /// </summary>
    public Func<CancellationToken, Task> PersistAsync { get; } = persist;
}
