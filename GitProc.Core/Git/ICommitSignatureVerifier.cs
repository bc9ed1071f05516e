namespace GitProc.Git;

/// <summary>
/// Verifies the signature of a commit of the units repository against the trusted keys of the options
/// (<see cref="GitOptions.AllowedSignersFile"/>, <see cref="GitOptions.GpgKeyringFile"/>), as <c>git verify-commit</c>
/// does: the signature is read from the commit object (its <c>gpgsig</c> header) and checked over the rest of the object
/// with <c>ssh-keygen -Y verify</c> (namespace <c>git</c>) or <c>gpgv</c>. The reconciler asks before it applies a tip
/// when <see cref="GitOptions.RequireSignedCommits"/> is set; <c>plan</c> and <c>check --commit</c> ask too, so the
/// three never disagree.
/// </summary>
public interface ICommitSignatureVerifier
{
    /// <summary>Verifies one commit's signature.</summary>
    /// <param name="commit">A commit, as <see cref="IGitIntegration.GetCommitAsync"/> accepts.</param>
    /// <param name="cancellationToken">Cancels the verification; a helper program still running is stopped.</param>
    /// <returns>The verdict: findings about the commit are data, not exceptions.</returns>
    /// <exception cref="GitException">
    /// No such commit; the commit cannot be read; a trust source is missing, unreadable, ill-formed or writable by others;
    /// or a helper program (<c>git</c>, <c>ssh-keygen</c>, <c>gpgv</c>) cannot be run or timed out. The message names the
    /// option and the file, or the program and its package.
    /// </exception>
    Task<CommitSignatureVerdict> VerifyAsync(string commit, CancellationToken cancellationToken = default);
}
