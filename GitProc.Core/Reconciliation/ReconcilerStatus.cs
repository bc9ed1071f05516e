using GitProc.State;

namespace GitProc.Reconciliation;

/// <summary>Where the reconciler stands.</summary>
/// <param name="Branch">The watched branch.</param>
/// <param name="AppliedCommit">The applied commit, if any.</param>
/// <param name="Rejected">The last rejected commit, while the branch tip is that commit.</param>
public sealed record ReconcilerStatus(string Branch, string? AppliedCommit, RejectedCommit? Rejected);
