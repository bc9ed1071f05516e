using GitProc.Supervision;
using GitProc.UnitFiles;

namespace GitProc.Reconciliation;

/// <summary>What a sync applied.</summary>
/// <param name="Commit">The commit now applied; empty when the watched branch has no commit yet.</param>
/// <param name="Changes">What the supervisor changed.</param>
public sealed record SyncResult(string Commit, ApplyResult Changes)
{
    /// <summary>How many services were started, restarted or stopped (the CLI's "Reloaded N services").</summary>
    public int ReloadedCount => Changes.ChangedCount;

    /// <summary>
    /// The applied commit's warnings (as <see cref="ReconcilerStatus.Warnings"/>), whether this sync or an earlier one
    /// applied it.
    /// </summary>
    public IReadOnlyList<UnitFileWarning> Warnings { get; init; } = [];
}
