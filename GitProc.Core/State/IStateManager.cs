namespace GitProc.State;

/// <summary>
/// The daemon's durable state file: written atomically, so a crash at any moment leaves the old or the new state,
/// never a torn one; an unreadable file is kept aside and reported, never silently replaced.
/// </summary>
/// <remarks>
/// Two ways to use it: the whole document (<see cref="LoadAsync"/>, <see cref="SaveAsync"/>), as the supervisor
/// does, and one service at a time (<see cref="RegisterServiceAsync"/>, <see cref="GetServiceAsync"/>,
/// <see cref="UpdateStatusAsync"/>, <see cref="GetAllServicesAsync"/>), for tools and tests. Every call goes to the
/// file: a per-service change reads the file, changes that one service and writes the file back before it returns,
/// with the other services, the applied commit and the applied units as they were. Calls on one instance are
/// serialized, so concurrent changes never lose one another. A whole-document save replaces the file, so a supervisor
/// that uses the same file overwrites per-service changes with its own view at its next save.
/// </remarks>
public interface IStateManager
{
    /// <summary>
    /// Reads the state file. A missing file is an empty state. An unreadable one is renamed to
    /// <c>state.json.corrupt-&lt;timestamp&gt;</c>, reported in the log, and an empty state is returned.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The state.</returns>
    /// <exception cref="StateFileException">The file exists but cannot be read, or an unreadable one cannot be moved aside.</exception>
    Task<SupervisorState> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the whole state atomically: a temporary file, flushed to disk, renamed over the old one.</summary>
    /// <param name="state">The state to store.</param>
    /// <param name="cancellationToken">Cancels the write (the old file then stays as it was).</param>
    /// <returns>A task that completes once the state is on disk.</returns>
    /// <exception cref="StateFileException">The file could not be written; the old one is unchanged.</exception>
    Task SaveAsync(SupervisorState state, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records <paramref name="service"/> under its <see cref="ServiceRecord.Name"/>, replacing what was recorded for
    /// that name, and writes the state file atomically before returning.
    /// </summary>
    /// <param name="service">The service's state.</param>
    /// <param name="cancellationToken">Cancels the change (the old file then stays as it was).</param>
    /// <returns>A task that completes once the state is on disk.</returns>
    /// <exception cref="ArgumentException">The name is not a valid service name (letters, digits, <c>:_.@-</c>, not starting with <c>.</c>).</exception>
    /// <exception cref="StateFileException">The file could not be read or written; the old one is unchanged.</exception>
    Task RegisterServiceAsync(ServiceRecord service, CancellationToken cancellationToken = default);

    /// <summary>Reads one service's recorded state from the state file.</summary>
    /// <param name="name">The service name.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The service's state, or <see langword="null"/> when the file records no service of that name.</returns>
    /// <exception cref="StateFileException">The file exists but cannot be read.</exception>
    Task<ServiceRecord?> GetServiceAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets a recorded service's status and, when <paramref name="exitCode"/> is given, its last exit code, and writes
    /// the state file atomically before returning. Everything else recorded for it is kept, except that a status other
    /// than <see cref="ServiceStatus.Running"/> also clears what identifies its process (pid, start ticks, output pipe,
    /// unit digest): a service that is not running has no process for a later daemon to take over.
    /// </summary>
    /// <param name="name">The service name.</param>
    /// <param name="status">The new status.</param>
    /// <param name="exitCode">The last exit code (128 + signal for a signal); <see langword="null"/> keeps the recorded one.</param>
    /// <param name="cancellationToken">Cancels the change (the old file then stays as it was).</param>
    /// <returns>The service's state as written.</returns>
    /// <exception cref="KeyNotFoundException">The file records no service of that name (register it first); nothing is written.</exception>
    /// <exception cref="StateFileException">The file could not be read or written; the old one is unchanged.</exception>
    Task<ServiceRecord> UpdateStatusAsync(string name, ServiceStatus status, int? exitCode = null, CancellationToken cancellationToken = default);

    /// <summary>Reads every recorded service from the state file.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The services' states by name; empty when none is recorded or there is no file.</returns>
    /// <exception cref="StateFileException">The file exists but cannot be read.</exception>
    Task<IReadOnlyDictionary<string, ServiceRecord>> GetAllServicesAsync(CancellationToken cancellationToken = default);
}
