namespace GitProc.State;

/// <summary>
/// The daemon's durable state file (CONTRACT §5): written atomically, so a crash at any moment leaves the old
/// or the new state, never a torn one; an unreadable file is kept aside and reported, never silently replaced.
/// </summary>
public interface IStateManager
{
    /// <summary>
    /// Reads the state file. A missing file is an empty state. An unreadable one is renamed to
    /// <c>state.json.corrupt-&lt;timestamp&gt;</c>, reported in the log, and an empty state is returned.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The state.</returns>
    Task<SupervisorState> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the whole state atomically: a temporary file, flushed to disk, renamed over the old one.</summary>
    /// <param name="state">The state to store.</param>
    /// <param name="cancellationToken">Cancels the write (the old file then stays as it was).</param>
    /// <returns>A task that completes once the state is on disk.</returns>
    Task SaveAsync(SupervisorState state, CancellationToken cancellationToken = default);
}
