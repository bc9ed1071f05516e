using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>
/// Owns the desired set of units and keeps their services running: starts them in dependency order, applies
/// restart policies, stops them in reverse order. Commands for one service are serialized (a crash-restart never
/// races an operator's stop); different services proceed in parallel.
/// </summary>
public interface ISupervisor : IAsyncDisposable
{
    /// <summary>
    /// Reads the previous run's state: stops any process it recorded that still runs (same pid and start time),
    /// so two copies of a service never run, and restores operators' stops and restart counts. Call once, before
    /// the first <see cref="ApplyAsync"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the recovery.</param>
    /// <returns>The commit the previous run had applied, if any.</returns>
    Task<string?> InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes <paramref name="units"/> the desired set: removed units stop and are forgotten, added units start,
    /// changed units restart with their new definition, unchanged ones are left alone. The whole set is validated
    /// first (dependency cycles, missing <c>Requires</c>); when invalid nothing is applied.
    /// </summary>
    /// <param name="units">Every unit of the new desired state.</param>
    /// <param name="commit">The Git commit these units come from, recorded in the state; <see langword="null"/> when not from Git.</param>
    /// <param name="cancellationToken">Cancels waiting; services already being started or stopped finish that step.</param>
    /// <returns>What changed.</returns>
    /// <exception cref="GitProcException">The units form a cycle or require a missing service.</exception>
    Task<ApplyResult> ApplyAsync(IReadOnlyCollection<UnitFile> units, string? commit = null, CancellationToken cancellationToken = default);

    /// <summary>Starts a stopped or failed service (and what it depends on); clears an operator's stop and the crash-loop limit.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The service's status once running.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    /// <exception cref="ServiceOperationException">It is already running, or it could not be started (the message says why).</exception>
    Task<ServiceStatusInfo> StartAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>Stops a running service with its whole process tree; the stop persists until started or its unit changes.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting (the stop itself completes).</param>
    /// <returns>The service's status once stopped.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    /// <exception cref="ServiceOperationException">It is not running.</exception>
    Task<ServiceStatusInfo> StopAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>Stops (if running) and starts a service; clears an operator's stop and the crash-loop limit.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The service's status once running again.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    /// <exception cref="ServiceOperationException">It could not be started.</exception>
    Task<ServiceStatusInfo> RestartAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>One service's status.</summary>
    /// <param name="service">The service name.</param>
    /// <returns>Its status.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    ServiceStatusInfo GetStatus(string service);

    /// <summary>One service's status with its resource usage read from its cgroup (memory, CPU, tasks).</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Its status.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    Task<ServiceStatusInfo> GetStatusAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>Every known service's status, ordered by name.</summary>
    /// <returns>The statuses.</returns>
    IReadOnlyList<ServiceStatusInfo> ListServices();

    /// <summary>Stops every service in reverse dependency order (the daemon's shutdown); their desired state is kept.</summary>
    /// <param name="cancellationToken">Cancels waiting (stops already begun complete).</param>
    /// <returns>A task that completes when no service process remains.</returns>
    Task StopAllAsync(CancellationToken cancellationToken = default);
}
