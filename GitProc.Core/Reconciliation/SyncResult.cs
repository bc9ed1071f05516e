using GitProc.Supervision;

namespace GitProc.Reconciliation;

/// <summary>What a sync applied.</summary>
/// <param name="Commit">The commit now applied.</param>
/// <param name="Changes">What the supervisor changed.</param>
public sealed record SyncResult(string Commit, ApplyResult Changes)
{
    /// <summary>How many services were started, restarted or stopped (the CLI's "Reloaded N services").</summary>
    public int ReloadedCount => Changes.ChangedCount;
}
