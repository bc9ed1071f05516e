using GitProc.State;

namespace GitProc.Reconciliation;

/// <summary>A commit was not applied because a unit in it is invalid or the units form a cycle; nothing of it was applied.</summary>
public sealed class CommitRejectedException : GitProcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="rejection">The commit, file, line and reason.</param>
    /// <param name="message">The message: commit, file, line and reason in one sentence.</param>
    public CommitRejectedException(RejectedCommit rejection, string message)
        : base(message)
    {
        Rejection = rejection;
    }

    /// <summary>The commit, file, line and reason.</summary>
    public RejectedCommit Rejection { get; }
}
