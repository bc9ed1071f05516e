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
    /// Reads the previous run's state and takes over what it ran: the applied units (kept in the state) become the
    /// current set again, and every service whose recorded main process still runs (same pid and start time) with an
    /// unchanged unit is adopted as it is — same pid, no restart, its output captured again, its exit handled by its
    /// restart policy. Any other process it recorded that still runs is stopped, and so is anything in a service
    /// cgroup under the root that no adopted service owns, so a service never runs twice and nothing runs
    /// unmanaged. Operators' stops and restart counts are restored. Call once, before the first
    /// <see cref="ApplyAsync"/>, which then also starts the services that were not taken over.
    /// </summary>
    /// <param name="cancellationToken">Cancels the recovery.</param>
    /// <returns>The commit the previous run had applied, if any.</returns>
    Task<string?> InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The units of the current desired set: the last applied, or after <see cref="InitializeAsync"/> the previous
    /// run's (from the state), so what ran can run again when the repository cannot be read.
    /// </summary>
    IReadOnlyList<UnitFile> AppliedUnits { get; }

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

    /// <summary>
    /// What <see cref="ApplyAsync"/> would do with <paramref name="units"/> now, service by service (the apply follows
    /// the same plan): start, restart (with the changed keys), stop, or leave unchanged, including services started
    /// because a service being started depends on them. Changes nothing.
    /// </summary>
    /// <param name="units">Every unit of the desired state.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="GitProcException">The units form a cycle or require a missing service.</exception>
    ApplyPlan Plan(IReadOnlyCollection<UnitFile> units);

    /// <summary>Starts a stopped or failed service (and what it depends on); clears an operator's stop and the crash-loop limit.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The service's status once running.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    /// <exception cref="ServiceOperationException">It is already running, or it could not be started (the message says why).</exception>
    Task<ServiceSnapshot> StartAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>Stops a running service with its whole process tree; the stop persists until started or its unit changes.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting (the stop itself completes).</param>
    /// <returns>The service's status once stopped.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    /// <exception cref="ServiceOperationException">It is not running.</exception>
    Task<ServiceSnapshot> StopAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>Stops (if running) and starts a service; clears an operator's stop and the crash-loop limit.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The service's status once running again.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    /// <exception cref="ServiceOperationException">It could not be started.</exception>
    Task<ServiceSnapshot> RestartAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reloads a running service's configuration without restarting it: runs its <c>ExecReload=</c> commands (with
    /// <c>$MAINPID</c>) and waits for them, or, without any, sends its <c>ReloadSignal=</c> to the main process.
    /// </summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels waiting for the service's other commands; a reload once begun completes.</param>
    /// <returns>The service's status (its main process is unchanged).</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    /// <exception cref="ServiceOperationException">
    /// It is not running, its unit has neither <c>ExecReload=</c> nor <c>ReloadSignal=</c>, or a reload command failed.
    /// </exception>
    Task<ServiceSnapshot> ReloadAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>One service's status.</summary>
    /// <param name="service">The service name.</param>
    /// <returns>Its status.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    ServiceSnapshot GetStatus(string service);

    /// <summary>One service's status with its resource usage read from its cgroup (memory, CPU, tasks).</summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Its status.</returns>
    /// <exception cref="ServiceNotFoundException">No such service.</exception>
    Task<ServiceSnapshot> GetStatusAsync(string service, CancellationToken cancellationToken = default);

    /// <summary>Every known service's status, ordered by name.</summary>
    /// <returns>The statuses.</returns>
    IReadOnlyList<ServiceSnapshot> ListServices();

    /// <summary>
    /// Prepares an in-place upgrade: the process is about to re-execute itself (<c>execve</c>) and the new image will
    /// take every service over with <see cref="InitializeAsync"/>. Waits for commands and applies in progress, then
    /// stops acting for good (no command, restart or apply runs afterwards), stops observing processes so their exits
    /// and output wait in the kernel, and saves the state with the start of any line of output read but not ended.
    /// Services keep running. Afterwards only re-executing (or exiting, leaving the services to the next daemon)
    /// makes sense; disposing does not stop services any more.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for the first state write, before anything changed.</param>
    /// <returns>A task that completes once the state is saved.</returns>
    /// <exception cref="GitProcException">The state could not be saved; nothing was changed and the supervisor runs on.</exception>
    Task HandOverAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Why saving the state fails, while it fails (a full or read-only disk); <see langword="null"/> once a save succeeds.
    /// Services keep running meanwhile. After <see cref="StopAllAsync"/>, a value means the final state was not saved, so
    /// the next run may find it out of date.
    /// </summary>
    StateSaveError? LastStateError { get; }

    /// <summary>Stops every service in reverse dependency order (the daemon's shutdown); their desired state is kept.</summary>
    /// <param name="cancellationToken">Cancels waiting (stops already begun complete).</param>
    /// <returns>A task that completes when no service process remains.</returns>
    Task StopAllAsync(CancellationToken cancellationToken = default);
}
