namespace GitProc.Git;

/// <summary>
/// The Git repository of unit files: reads unit files from commits (never from the working tree),
/// diffs commits, finds the watched branch's tip, rolls back by adding a commit, and follows an optional remote.
/// </summary>
/// <remarks>
/// <para>
/// Unit files are the <c>*.service</c> blobs at the root of a commit's tree. Files in subdirectories, files with
/// other extensions, symbolic links and submodules are ignored, so a repository may also hold documentation,
/// environment files and scripts.
/// </para>
/// <para>
/// Every failure of Git itself (no repository, an unknown commit, a corrupt object, a failed fetch, a branch that
/// cannot be moved safely) is a <see cref="GitException"/> whose message says what failed; libgit2's own
/// exceptions never escape. Local operations complete synchronously on the calling thread (they take
/// microseconds to a few milliseconds on a repository of unit files); <see cref="FetchAsync"/> runs on the
/// thread pool. The implementation is thread-safe.
/// </para>
/// </remarks>
public interface IGitIntegration
{
    /// <summary>The repository's directory (<see cref="GitProcOptions.RepositoryPath"/>).</summary>
    string RepositoryPath { get; }

    /// <summary>
    /// Creates a non-bare repository whose HEAD is the (still unborn) watched branch.
    /// </summary>
    /// <param name="path">Where to create it; <see langword="null"/> means <see cref="RepositoryPath"/>.</param>
    /// <param name="cancellationToken">Cancels before anything is written.</param>
    /// <exception cref="GitException">
    /// A repository already exists there (code <see cref="GitProcErrorCodes.RepositoryExists"/>; a broken <c>.git</c>
    /// directory or a worktree's <c>.git</c> file counts), or it cannot be created (code <see cref="GitProcErrorCodes.GitError"/>).
    /// </exception>
    Task InitAsync(string? path = null, CancellationToken cancellationToken = default);

    /// <summary>The full SHA-1 the branch points at.</summary>
    /// <param name="branch">A local branch name; <see langword="null"/> means the watched branch.</param>
    /// <param name="cancellationToken">Cancels before the repository is read.</param>
    /// <returns>The commit's full SHA-1, or <see langword="null"/> when the branch does not exist or is unborn.</returns>
    /// <exception cref="GitException">There is no repository, or it cannot be read.</exception>
    Task<string?> GetBranchTipAsync(string? branch = null, CancellationToken cancellationToken = default);

    /// <summary>Resolves a commit: a full or short SHA-1, a branch or tag name, or an expression such as <c>HEAD~1</c>.</summary>
    /// <param name="commitish">What to resolve.</param>
    /// <param name="cancellationToken">Cancels before the repository is read.</param>
    /// <exception cref="GitException">No such commit, or the repository cannot be read.</exception>
    Task<GitCommitInfo> GetCommitAsync(string commitish, CancellationToken cancellationToken = default);

    /// <summary>The unit files in a commit's tree, ordered by name.</summary>
    /// <param name="commit">A commit, as accepted by <see cref="GetCommitAsync"/>.</param>
    /// <param name="cancellationToken">Cancels before the repository is read.</param>
    /// <exception cref="GitException">No such commit, or the repository cannot be read.</exception>
    Task<IReadOnlyList<GitUnitFile>> ListUnitFilesAsync(string commit, CancellationToken cancellationToken = default);

    /// <summary>The bytes of one file at the root of a commit's tree.</summary>
    /// <param name="commit">A commit, as accepted by <see cref="GetCommitAsync"/>.</param>
    /// <param name="fileName">The file name, such as <c>web.service</c>.</param>
    /// <param name="cancellationToken">Cancels before the repository is read.</param>
    /// <exception cref="GitException">No such commit, no such file in it, or the repository cannot be read.</exception>
    Task<byte[]> ReadFileAsync(string commit, string fileName, CancellationToken cancellationToken = default);

    /// <summary>Every unit file in a commit's tree with its bytes, ordered by name, read in one pass.</summary>
    /// <param name="commit">A commit, as accepted by <see cref="GetCommitAsync"/>.</param>
    /// <param name="cancellationToken">Cancels before the repository is read.</param>
    /// <exception cref="GitException">No such commit, or the repository cannot be read.</exception>
    Task<IReadOnlyList<GitUnitFileContent>> ReadUnitFilesAsync(string commit, CancellationToken cancellationToken = default);

    /// <summary>
    /// The unit files that differ between two commits' trees, ordered by name. A renamed file is a deletion plus
    /// an addition; a file whose bytes and mode are unchanged is not reported.
    /// </summary>
    /// <param name="fromCommit">The older commit; <see langword="null"/> means nothing, so every unit file is added.</param>
    /// <param name="toCommit">The newer commit.</param>
    /// <param name="cancellationToken">Cancels before the repository is read.</param>
    /// <exception cref="GitException">No such commit, or the repository cannot be read.</exception>
    Task<IReadOnlyList<GitFileChange>> GetChangesAsync(string? fromCommit, string toCommit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a commit to the watched branch whose tree equals the target's tree, with the message
    /// <c>Rollback to &lt;short sha&gt;</c> and the current tip as its only parent. History is never rewritten.
    /// </summary>
    /// <remarks>
    /// The target may be any commit in the repository, not only an ancestor of the tip. The author and committer
    /// are the repository's <c>user.name</c>/<c>user.email</c>, else <c>gitproc &lt;gitproc@localhost&gt;</c>.
    /// When HEAD is the watched branch and the working tree has no uncommitted changes, the index and working tree
    /// are moved to the new commit; otherwise they are left alone (a warning is logged) and only the branch moves.
    /// </remarks>
    /// <param name="targetCommitish">The commit whose tree to restore, as accepted by <see cref="GetCommitAsync"/>.</param>
    /// <param name="validate">
    /// Called with the target's full SHA-1 before anything is written; any exception it throws aborts the rollback
    /// and propagates unchanged. The reconciler passes a function that parses every unit at that commit.
    /// </param>
    /// <param name="cancellationToken">Cancels before the commit is written.</param>
    /// <returns>The new commit.</returns>
    /// <exception cref="GitException">
    /// No such commit; the watched branch has no commit; the tip already has the target's tree; or the repository
    /// cannot be read or written.
    /// </exception>
    Task<GitCommitInfo> RollbackAsync(string targetCommitish, Func<string, CancellationToken, Task>? validate = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Fetches <see cref="GitOptions.RemoteBranch"/> from <see cref="GitOptions.RemoteUrl"/> into
    /// <c>refs/remotes/gitproc/&lt;branch&gt;</c> and fast-forwards the watched branch to it when the branch is an
    /// ancestor of (or equal to) the fetched commit. When the remote rewrote its history (a force-push) and the branch is
    /// exactly the remote's previous commit, the branch follows the remote (<see cref="FetchOutcome.Forced"/>). A branch
    /// with commits of its own is never force-moved: ahead, it is left alone; diverged, the fetch fails. Network remotes
    /// (https, ssh) are fetched with the <c>git</c> command within <see cref="GitOptions.FetchTimeout"/>. Does nothing
    /// without a remote.
    /// </summary>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    /// <exception cref="GitException">
    /// The fetch failed, the remote has no such branch, or the local and remote branches have diverged (the message
    /// names both commits).
    /// </exception>
    Task<FetchResult> FetchAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Watches the repository's references (the branch files, <c>packed-refs</c> and <c>HEAD</c>) and calls
    /// <paramref name="onChanged"/> shortly after they change; bursts of changes are coalesced into one call.
    /// </summary>
    /// <remarks>
    /// A file-system watch can miss changes (network file systems, a repository replaced wholesale, an overflowing
    /// event queue), so the watch also checks the reference files' size and modification time every
    /// <see cref="GitOptions.PollInterval"/> (a stat, no Git read). <paramref name="onChanged"/> runs on a
    /// thread-pool thread and may be called when nothing relevant changed; exceptions it throws are logged and
    /// swallowed.
    /// </remarks>
    /// <param name="onChanged">Called after a change.</param>
    /// <returns>Disposing it stops the watch.</returns>
    /// <exception cref="GitException">There is no repository.</exception>
    IDisposable WatchBranch(Action onChanged);
}
