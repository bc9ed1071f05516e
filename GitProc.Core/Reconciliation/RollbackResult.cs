namespace GitProc.Reconciliation;

/// <summary>What a rollback did.</summary>
/// <param name="RestoredCommit">The commit whose tree was restored (full hash).</param>
/// <param name="NewCommit">The new commit on the watched branch (full hash).</param>
/// <param name="Sync">What applying it changed.</param>
public sealed record RollbackResult(string RestoredCommit, string NewCommit, SyncResult Sync);
