using GitProc.Supervision;

namespace GitProc.Reconciliation;

/// <summary>What applying the tip of the watched branch did.</summary>
/// <param name="Commit">The commit now applied; empty when the watched branch has no commit yet.</param>
/// <param name="Changes">
/// What applying <paramref name="Commit"/> changed: by this sync, or by the watcher just before it when no sync has
/// reported that apply yet; nothing when an earlier sync reported it already.
/// </param>
public sealed record SyncResult(string Commit, ApplyResult Changes)
{
    /// <summary>How many services were started, restarted or stopped (the CLI's "Reloaded N services").</summary>
    public int ReloadedCount => Changes.ChangedCount;

    /// <summary>
    /// What the applied commit has that GitProc does not act on, every unit's, as <c>FILE:LINE: KEY: message</c> lines
    /// (<see cref="ReconcilerStatus.Warnings"/>).
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
