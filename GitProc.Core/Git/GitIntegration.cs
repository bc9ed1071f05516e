using GitProc.Metrics;
using LibGit2Sharp;
using GitProc.Targeting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Git;

/// <summary>
/// <see cref="IGitIntegration"/> over LibGit2Sharp.
/// </summary>
/// <remarks>
/// A <see cref="Repository"/> is opened per operation and disposed at its end. Opening is cheap (reading the tip
/// this way took about 50 µs, reading every unit file about 200 µs, on a small repository), and it means every operation sees the repository as it
/// is on disk now — including a repository created, replaced or repacked by the git CLI after this object was
/// made — and that no LibGit2Sharp object, which is not safe to share across threads, is ever shared. Branch moves
/// (rollback, fast-forward) are serialized by a lock within the process; against other writers (the git CLI) the
/// branch is re-read immediately before it is moved and the move is refused when it changed.
/// </remarks>
internal sealed partial class GitIntegration : IGitIntegration
{
    /// <summary>Where fetched remote commits are kept: <c>refs/remotes/gitproc/BRANCH</c>.</summary>
    internal const string TrackingPrefix = "refs/remotes/" + RemoteName + "/";

    /// <summary>The name under which <see cref="GitOptions.RemoteUrl"/> is recorded in the repository's config.</summary>
    internal const string RemoteName = "gitproc";

    private const string HeadsPrefix = "refs/heads/";
    private const string UnitSuffix = ".service";
    private const int ShortShaLength = 7;

    private readonly IOptions<PathOptions> _paths;
    private readonly IOptions<TargetingOptions> _targeting;
    private readonly IOptions<GitOptions> _git;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<GitIntegration> _logger;
    private readonly GitProcMetrics? _metrics;
    private readonly Lock _branchLock = new();
    private readonly GitCommandFetcher _command;

    public GitIntegration(
        IOptions<PathOptions> paths,
        IOptions<TargetingOptions> targeting,
        IOptions<GitOptions> git,
        TimeProvider timeProvider,
        ILogger<GitIntegration>? logger = null,
        GitProcMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(targeting);
        ArgumentNullException.ThrowIfNull(git);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _paths = paths;
        _targeting = targeting;
        _git = git;
        _timeProvider = timeProvider;
        _logger = logger ?? NullLogger<GitIntegration>.Instance;
        _metrics = metrics;
        _command = new GitCommandFetcher(timeProvider);
    }

    public string RepositoryPath => _paths.Value.RepositoryPath;

    private string WatchBranchName => _targeting.Value.WatchBranch;

    public Task InitAsync(string? path = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var fullPath = Path.GetFullPath(path ?? RepositoryPath);
        var branch = WatchBranchName;
        var canonical = BranchReference(branch);

        // A broken .git still counts: initializing over it would silently "repair" someone's repository.
        if (Repository.IsValid(fullPath) || Directory.Exists(Path.Combine(fullPath, ".git")) || File.Exists(Path.Combine(fullPath, ".git")))
        {
            throw new GitException($"A Git repository already exists at {fullPath}.") { Code = GitProcErrorCodes.RepositoryExists };
        }

        try
        {
            Directory.CreateDirectory(fullPath);
            var gitDirectory = Repository.Init(fullPath, isBare: false);
            using var repository = new Repository(gitDirectory);

            // Whatever init.defaultBranch says, HEAD must be the (unborn) watched branch so the first commit lands on it.
            repository.Refs.UpdateTarget("HEAD", canonical);
        }
        catch (Exception ex) when (ex is LibGit2SharpException or IOException or UnauthorizedAccessException)
        {
            throw new GitException($"Cannot create a Git repository at {fullPath}: {ex.Message}", ex);
        }

        Log.RepositoryCreated(_logger, fullPath, branch);
        return Task.CompletedTask;
    }

    public Task<string?> GetBranchTipAsync(string? branch = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var canonical = BranchReference(branch ?? WatchBranchName);
        var tip = Read($"read branch {canonical}", repository => Tip(repository, canonical));
        if (branch is null || branch == WatchBranchName)
        {
            _metrics?.BranchTipRead(tip);
        }

        return Task.FromResult(tip);
    }

    public Task<GitCommitInfo> GetCommitAsync(string commitish, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commitish);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read($"read commit '{commitish}'", repository => Describe(ResolveCommit(repository, commitish))));
    }

    public Task<IReadOnlyList<GitUnitFile>> ListUnitFilesAsync(string commit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commit);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read<IReadOnlyList<GitUnitFile>>(
            $"list the unit files of commit '{commit}'",
            repository => UnitEntries(ResolveCommit(repository, commit).Tree)
                .Select(entry => new GitUnitFile(entry.Name, entry.Target.Sha))
                .ToList()));
    }

    public Task<byte[]> ReadFileAsync(string commit, string fileName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commit);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        cancellationToken.ThrowIfCancellationRequested();
        if (fileName.StartsWith('/') || fileName.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new ArgumentException($"'{fileName}' is not a path relative to the root of the repository.", nameof(fileName));
        }

        return Task.FromResult(Read($"read {fileName} at commit '{commit}'", repository =>
        {
            var resolved = ResolveCommit(repository, commit);
            var entry = resolved.Tree[fileName];
            if (entry is null || entry.TargetType != TreeEntryTargetType.Blob)
            {
                throw new GitException($"There is no file {fileName} in commit {Short(resolved.Sha)} of {RepositoryPath}.");
            }

            return ReadBlob((Blob)entry.Target);
        }));
    }

    public Task<IReadOnlyList<GitUnitFileContent>> ReadUnitFilesAsync(string commit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commit);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Read<IReadOnlyList<GitUnitFileContent>>(
            $"read the unit files of commit '{commit}'",
            repository => UnitEntries(ResolveCommit(repository, commit).Tree)
                .Select(entry => new GitUnitFileContent(entry.Name, entry.Target.Sha, ReadBlob((Blob)entry.Target)))
                .ToList()));
    }

    public Task<IReadOnlyList<GitFileChange>> GetChangesAsync(string? fromCommit, string toCommit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(toCommit);
        cancellationToken.ThrowIfCancellationRequested();
        var what = fromCommit is null ? $"list the unit files of commit '{toCommit}'" : $"compare commits '{fromCommit}' and '{toCommit}'";
        return Task.FromResult(Read<IReadOnlyList<GitFileChange>>(what, repository =>
        {
            // Comparing the two root listings directly (rather than with libgit2's diff) is exact for what counts as a
            // unit file, needs no rename detection to switch off, and is as cheap: trees are sorted and small.
            var before = fromCommit is null
                ? new Dictionary<string, TreeEntry>(StringComparer.Ordinal)
                : UnitEntries(ResolveCommit(repository, fromCommit).Tree).ToDictionary(entry => entry.Name, StringComparer.Ordinal);
            var after = UnitEntries(ResolveCommit(repository, toCommit).Tree).ToDictionary(entry => entry.Name, StringComparer.Ordinal);

            var changes = new List<GitFileChange>();
            foreach (var name in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
            {
                var old = before.GetValueOrDefault(name);
                var @new = after.GetValueOrDefault(name);
                if (old is null)
                {
                    changes.Add(new GitFileChange(name, GitChangeKind.Added, null, @new!.Target.Sha));
                }
                else if (@new is null)
                {
                    changes.Add(new GitFileChange(name, GitChangeKind.Deleted, old.Target.Sha, null));
                }
                else if (old.Target.Id != @new.Target.Id || old.Mode != @new.Mode)
                {
                    changes.Add(new GitFileChange(name, GitChangeKind.Modified, old.Target.Sha, @new.Target.Sha));
                }
            }

            return changes;
        }));
    }

    public async Task<GitCommitInfo> RollbackAsync(string targetCommitish, Func<string, CancellationToken, Task>? validate = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(targetCommitish);
        cancellationToken.ThrowIfCancellationRequested();
        var branch = WatchBranchName;
        var canonical = BranchReference(branch);

        var targetSha = Read($"resolve commit '{targetCommitish}'", repository => ResolveCommit(repository, targetCommitish).Sha);
        if (validate is not null)
        {
            await validate(targetSha, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_branchLock)
        {
            return Read($"roll back branch {branch} to {Short(targetSha)}", repository =>
            {
                var target = repository.Lookup<Commit>(targetSha)
                    ?? throw new GitException($"Commit {targetSha} disappeared from {RepositoryPath} during the rollback.");
                var tipSha = Tip(repository, canonical)
                    ?? throw new GitException($"Branch {branch} of {RepositoryPath} has no commit yet; there is nothing to roll back.");
                var tip = repository.Lookup<Commit>(tipSha)
                    ?? throw new GitException($"The tip of branch {branch} ({tipSha}) is not a commit in {RepositoryPath}.");
                if (tip.Tree.Id == target.Tree.Id)
                {
                    throw new GitException(
                        $"Nothing to roll back: the tip of branch {branch} ({Short(tip.Sha)}) already has the tree of {Short(target.Sha)}.");
                }

                var signature = Signature(repository);
                // The message is written as git would store it (one line, a final newline) rather than through
                // libgit2's prettifier, whose buffer comes back empty in a NativeAOT build: the commit had no message.
                var commit = repository.ObjectDatabase.CreateCommit(
                    signature, signature, $"Rollback to {Short(target.Sha)}\n", target.Tree, [tip], prettifyMessage: false);
                MoveBranch(repository, branch, tip, commit, $"gitproc: rollback to {Short(target.Sha)}");
                Log.RolledBack(_logger, branch, target.Sha, commit.Sha);
                return Describe(commit);
            });
        }
    }

    public Task<FetchResult> FetchAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var options = _git.Value;
        var url = options.RemoteUrl;
        if (string.IsNullOrWhiteSpace(url))
        {
            return Task.FromResult(new FetchResult(FetchOutcome.NoRemote, null, null, null));
        }

        if (RemoteAddress.CarriesSecret(url))
        {
            throw new GitException(
                $"Git:RemoteUrl {RemoteAddress.Redact(url)} carries credentials in the URL; put them in Git:CredentialsFile (or Git:CredentialsEnvironmentVariable) instead.");
        }

        var branch = WatchBranchName;
        var remoteBranch = string.IsNullOrWhiteSpace(options.RemoteBranch) ? branch : options.RemoteBranch;
        _ = BranchReference(branch);
        _ = BranchReference(remoteBranch);

        // A network transfer goes through the git command (bounded in time, its TLS and SSH set per process); a local one
        // through libgit2, which blocks, so it gets a thread-pool thread.
        var fetch = RemoteAddress.IsNetwork(url)
            ? FetchWithCommandAsync(url, branch, remoteBranch, options, cancellationToken)
            : Task.Run(() => FetchWithLibGit2(url, branch, remoteBranch, cancellationToken), cancellationToken);
        return _metrics is null ? fetch : CountedAsync(fetch, _metrics);
    }

    private static async Task<FetchResult> CountedAsync(Task<FetchResult> fetch, GitProcMetrics metrics)
    {
        try
        {
            var result = await fetch.ConfigureAwait(false);
            metrics.Fetched(success: true);
            return result;
        }
        catch (GitException)
        {
            metrics.Fetched(success: false);
            throw;
        }
    }

    public IDisposable WatchBranch(Action onChanged)
    {
        ArgumentNullException.ThrowIfNull(onChanged);
        var gitDirectory = Read("find its Git directory", repository => repository.Info.Path);
        try
        {
            return new BranchWatcher(gitDirectory, WatchBranchName, onChanged, _git.Value.PollInterval, _timeProvider, _logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new GitException($"Cannot watch the references of {gitDirectory}: {ex.Message}", ex);
        }
    }

    private async Task<FetchResult> FetchWithCommandAsync(string url, string branch, string remoteBranch, GitOptions options, CancellationToken cancellationToken)
    {
        var tracking = TrackingPrefix + remoteBranch;
        var shown = RemoteAddress.Redact(url);
        var previousRemote = Read($"read {tracking}", repository => Tip(repository, tracking));
        await _command.FetchAsync(RepositoryPath, url, remoteBranch, tracking, options, cancellationToken).ConfigureAwait(false);
        return Read($"follow branch {remoteBranch} fetched from {shown}", repository => Advance(repository, shown, branch, remoteBranch, previousRemote));
    }

    private FetchResult FetchWithLibGit2(string url, string branch, string remoteBranch, CancellationToken cancellationToken)
    {
        var tracking = TrackingPrefix + remoteBranch;
        var shown = RemoteAddress.Redact(url);
        return Read($"fetch branch {remoteBranch} from {shown}", repository =>
        {
            // Removed first so that its absence afterwards means the remote has no such branch (a fetch of a missing
            // branch succeeds without updating anything). The objects stay, so nothing is downloaded twice; the old value
            // is put back when the fetch fails, since it tells a later fetch whether the remote rewrote its history.
            var previousRemote = Tip(repository, tracking);
            if (previousRemote is not null)
            {
                repository.Refs.Remove(tracking);
            }

            var fetchOptions = new FetchOptions
            {
                TagFetchMode = TagFetchMode.None,
                OnTransferProgress = _ => !cancellationToken.IsCancellationRequested,
                OnProgress = _ => !cancellationToken.IsCancellationRequested,
            };
            try
            {
                // LibGit2Sharp 0.32 only fetches from a named remote (a URL is rejected as an invalid name), so the
                // configured URL is kept as remote "gitproc" in the repository's config, where `git remote -v` shows it.
                var refspec = $"+{HeadsPrefix}{remoteBranch}:{tracking}";
                var configured = repository.Network.Remotes[RemoteName];
                if (configured is null)
                {
                    repository.Network.Remotes.Add(RemoteName, url, refspec);
                }
                else if (configured.Url != url)
                {
                    repository.Network.Remotes.Update(RemoteName, updater => updater.Url = url);
                }

                Commands.Fetch(repository, RemoteName, [refspec], fetchOptions, $"gitproc: fetch {shown}");
            }
            catch (LibGit2SharpException ex)
            {
                if (previousRemote is not null && repository.Refs[tracking] is null)
                {
                    repository.Refs.Add(tracking, new ObjectId(previousRemote), allowOverwrite: false);
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException($"Fetching {shown} was cancelled.", cancellationToken);
                }

                throw new GitException($"Fetching branch {remoteBranch} from {shown} into {RepositoryPath} failed: {ex.Message}", ex);
            }

            return Advance(repository, shown, branch, remoteBranch, previousRemote);
        });
    }

    /// <summary>
    /// Moves the watched branch to the fetched commit: forward when it is an ancestor; to a rewritten history when the
    /// branch is where the remote was at the previous fetch (a force-push: the branch holds nothing of its own); never
    /// when the branch has commits of its own (ahead: left alone; diverged: refused).
    /// </summary>
    /// <param name="repository">The repository.</param>
    /// <param name="shown">The remote's URL as it may be shown.</param>
    /// <param name="branch">The watched branch.</param>
    /// <param name="remoteBranch">The remote's branch.</param>
    /// <param name="previousRemote">The remote's commit at the previous fetch, if one is known.</param>
    private FetchResult Advance(Repository repository, string shown, string branch, string remoteBranch, string? previousRemote)
    {
        var tracking = TrackingPrefix + remoteBranch;
        var remoteSha = Tip(repository, tracking)
            ?? throw new GitException($"The remote {shown} has no branch {remoteBranch}.");
        var remote = repository.Lookup<Commit>(remoteSha)
            ?? throw new GitException($"Branch {remoteBranch} of {shown} does not point at a commit ({remoteSha}).");

        lock (_branchLock)
        {
            var canonical = BranchReference(branch);
            var localSha = Tip(repository, canonical);
            if (localSha == remote.Sha)
            {
                return new FetchResult(FetchOutcome.UpToDate, localSha, remote.Sha, localSha);
            }

            var local = localSha is null ? null : repository.Lookup<Commit>(localSha)
                ?? throw new GitException($"The tip of branch {branch} ({localSha}) is not a commit in {RepositoryPath}.");
            var mergeBase = local is null ? null : repository.ObjectDatabase.FindMergeBase(local, remote);
            if (local is not null && localSha == previousRemote && mergeBase?.Id != local.Id)
            {
                // The remote no longer contains what it had: its history was rewritten (or reset to an older commit).
                // The branch is exactly what the remote was, so following the remote loses nothing made on this host.
                MoveBranch(repository, branch, local, remote, $"gitproc: follow force-push to {Short(remote.Sha)} from {shown}");
                Log.ForcePushed(_logger, branch, local.Sha, remote.Sha, shown);
                return new FetchResult(FetchOutcome.Forced, localSha, remote.Sha, remote.Sha);
            }

            if (local is not null && mergeBase?.Id == remote.Id)
            {
                Log.LocalAhead(_logger, branch, local.Sha, shown, remote.Sha);
                return new FetchResult(FetchOutcome.LocalAhead, local.Sha, remote.Sha, local.Sha);
            }

            if (local is not null && mergeBase?.Id != local.Id)
            {
                throw new GitException(
                    $"Local branch {branch} ({Short(local.Sha)}) and remote {remoteBranch} ({Short(remote.Sha)}) have diverged; " +
                    $"refusing to move {branch}. Resolve by hand.");
            }

            MoveBranch(repository, branch, local, remote, $"gitproc: fast-forward to {Short(remote.Sha)} from {shown}");
            Log.FastForwarded(_logger, branch, localSha ?? "(none)", remote.Sha, shown);
            return new FetchResult(FetchOutcome.FastForwarded, localSha, remote.Sha, remote.Sha);
        }
    }

    /// <summary>
    /// Points the branch at <paramref name="target"/>, provided it still points at <paramref name="expected"/>, and
    /// brings a clean checked-out working tree along.
    /// </summary>
    private void MoveBranch(Repository repository, string branch, Commit? expected, Commit target, string reflogMessage)
    {
        var canonical = BranchReference(branch);
        var checkedOut = !repository.Info.IsBare
            && repository.Refs.Head is SymbolicReference head
            && string.Equals(head.TargetIdentifier, canonical, StringComparison.Ordinal);

        // Decided before the move: afterwards the index would differ from HEAD and everything would look modified.
        var clean = checkedOut && IsClean(repository, target.Tree);

        // libgit2 offers no compare-and-swap through LibGit2Sharp, so this narrows the race with other writers to
        // the microseconds between this read and the write below.
        var current = repository.Refs[canonical];
        if (current?.ResolveToDirectReference()?.TargetIdentifier != expected?.Sha)
        {
            throw new GitException($"Branch {branch} of {RepositoryPath} moved while GitProc was updating it; nothing was changed. Try again.");
        }

        if (current is null)
        {
            repository.Refs.Add(canonical, target.Id, reflogMessage, allowOverwrite: false);
        }
        else
        {
            repository.Refs.UpdateTarget(current, target.Id, reflogMessage);
        }

        if (!checkedOut)
        {
            return;
        }

        if (clean)
        {
            // HEAD already points at the target, so this only rewrites the index and the tracked files.
            repository.Reset(ResetMode.Hard, target);
        }
        else
        {
            Log.WorkTreeLeftAlone(_logger, repository.Info.WorkingDirectory, branch, target.Sha);
        }
    }

    /// <summary>
    /// Whether the working tree and index match HEAD, apart from untracked files that <paramref name="tree"/> would
    /// not overwrite.
    /// </summary>
    private static bool IsClean(Repository repository, Tree tree)
    {
        var status = repository.RetrieveStatus(new StatusOptions
        {
            IncludeUntracked = true,
            RecurseUntrackedDirs = true,
            IncludeIgnored = false,
            DetectRenamesInIndex = false,
            DetectRenamesInWorkDir = false,
            ExcludeSubmodules = true,
        });
        foreach (var entry in status)
        {
            if (entry.State is FileStatus.Unaltered or FileStatus.Ignored)
            {
                continue;
            }

            if (entry.State == FileStatus.NewInWorkdir && tree[entry.FilePath] is null)
            {
                continue;
            }

            return false;
        }

        return true;
    }

    private Signature Signature(Repository repository)
    {
        var now = _timeProvider.GetLocalNow();
        return repository.Config.BuildSignature(now) ?? new Signature("gitproc", "gitproc@localhost", now);
    }

    /// <summary>Opens the repository, runs <paramref name="action"/>, and turns libgit2's failures into <see cref="GitException"/>.</summary>
    /// <param name="what">What was being done, completing "Git failed to …".</param>
    /// <param name="action">The work; everything it returns must be materialized, the repository is disposed after it.</param>
    private T Read<T>(string what, Func<Repository, T> action)
    {
        var path = RepositoryPath;
        Repository repository;
        try
        {
            repository = new Repository(path);
        }
        catch (LibGit2SharpException ex)
        {
            throw RepositoryOpenFailure.Describe(path, ex);
        }

        using (repository)
        {
            try
            {
                return action(repository);
            }
            catch (LibGit2SharpException ex)
            {
                throw new GitException($"Git failed to {what} in {path}: {ex.Message}", ex);
            }
        }
    }

    private Commit ResolveCommit(Repository repository, string commitish)
    {
        GitObject? found;
        try
        {
            found = repository.Lookup(commitish);
        }
        catch (AmbiguousSpecificationException ex)
        {
            throw new GitException($"Commit '{commitish}' is ambiguous in {RepositoryPath}; give more characters of its SHA-1.", ex) { Code = GitProcErrorCodes.CommitNotFound };
        }
        catch (Exception ex) when (ex is NotFoundException or InvalidSpecificationException or UnbornBranchException)
        {
            found = null;
        }

        while (found is TagAnnotation tag)
        {
            found = tag.Target;
        }

        return found switch
        {
            Commit commit => commit,
            null => throw new GitException($"Commit '{commitish}' not found in {RepositoryPath}.") { Code = GitProcErrorCodes.CommitNotFound },
            _ => throw new GitException($"Commit '{commitish}' not found in {RepositoryPath}: it names a {found.GetType().Name.ToLowerInvariant()}, not a commit.")
            {
                Code = GitProcErrorCodes.CommitNotFound,
            },
        };
    }

    private static string? Tip(Repository repository, string canonical) =>
        repository.Refs[canonical]?.ResolveToDirectReference()?.TargetIdentifier;

    /// <summary>Unit files: <c>*.service</c> blobs at the root of the tree (not symbolic links or submodules), by name.</summary>
    private static IEnumerable<TreeEntry> UnitEntries(Tree tree) => tree
        .Where(entry => entry.Mode is Mode.NonExecutableFile or Mode.ExecutableFile
            && entry.Name.EndsWith(UnitSuffix, StringComparison.Ordinal))
        .OrderBy(entry => entry.Name, StringComparer.Ordinal);

    private static byte[] ReadBlob(Blob blob)
    {
        using var stream = blob.GetContentStream();
        var bytes = new byte[blob.Size];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static GitCommitInfo Describe(Commit commit)
    {
        var message = commit.Message ?? string.Empty;
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        var subject = (newline < 0 ? message : message[..newline]).TrimEnd('\r');
        return new GitCommitInfo(commit.Sha, Short(commit.Sha), subject, commit.Author.Name, commit.Author.Email, commit.Author.When);
    }

    private static string Short(string sha) => sha[..ShortShaLength];

    private static string BranchReference(string branch)
    {
        var canonical = branch.StartsWith(HeadsPrefix, StringComparison.Ordinal) ? branch : HeadsPrefix + branch;
        if (string.IsNullOrWhiteSpace(branch) || !Reference.IsValidName(canonical))
        {
            throw new GitException($"'{branch}' is not a valid Git branch name.");
        }

        return canonical;
    }
}
