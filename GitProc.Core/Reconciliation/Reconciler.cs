using GitProc.Dependencies;
using GitProc.Git;
using GitProc.State;
using GitProc.Supervision;
using GitProc.UnitFiles;
using GitProc.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GitProc.Reconciliation;

/// <summary>
/// The default <see cref="IReconciler"/>: reads every unit at the tip of the watched branch (from the commit,
/// never the working tree), validates the whole set, and hands it to the supervisor, which starts, restarts and
/// stops exactly what changed. A rejected commit changes nothing; the last good commit keeps running.
/// </summary>
internal sealed class Reconciler : IReconciler
{
    private readonly IGitIntegration _git;
    private readonly IUnitFileParser _parser;
    private readonly ISupervisor _supervisor;
    private readonly IServiceProvider _serviceProvider;
    private readonly TimeProvider _time;
    private readonly ILogger<Reconciler> _logger;
    private readonly GitProcOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _errorLock = new();

    private string? _applied;
    private string? _lastGood;
    private RejectedCommit? _rejected;
    private string? _gitError;
    private string? _gitErrorCommit;

    public Reconciler(
        IGitIntegration git,
        IUnitFileParser parser,
        ISupervisor supervisor,
        IServiceProvider serviceProvider,
        IOptions<GitProcOptions> options,
        TimeProvider timeProvider,
        ILogger<Reconciler> logger)
    {
        _git = git;
        _parser = parser;
        _supervisor = supervisor;
        _serviceProvider = serviceProvider;
        _options = options.Value;
        _time = timeProvider;
        _logger = logger;
    }

    public ReconcilerStatus Status =>
        new(_options.WatchBranch, Volatile.Read(ref _applied), Volatile.Read(ref _rejected)) { GitError = Volatile.Read(ref _gitError) };

    /// <summary>The commit a previous run applied (from the state), used when the tip is rejected at start-up.</summary>
    public void ResumeFrom(string? appliedCommit) => _lastGood = appliedCommit;

    public async Task<SyncResult> SyncAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await SyncUnderGateAsync(explicitRequest: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A sync triggered by the watcher: a tip that was already rejected is not re-read on every poll.</summary>
    public async Task<SyncResult?> SyncIfChangedAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string? tip;
            try
            {
                tip = await _git.GetBranchTipAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (GitException ex)
            {
                RecordGitError(ex.Message, commit: null);
                throw;
            }

            if (tip is null || tip == Volatile.Read(ref _applied) || tip == Volatile.Read(ref _rejected)?.Commit)
            {
                // The tip can be read again; an error reading a commit's units stays until units are read.
                ClearGitError(commitRead: false);
                return null;
            }

            return await SyncUnderGateAsync(explicitRequest: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<RollbackResult> RollbackAsync(string commit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commit);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var target = await _git.GetCommitAsync(commit, cancellationToken).ConfigureAwait(false);
            var created = await _git.RollbackAsync(
                target.Sha,
                async (sha, token) =>
                {
                    // The target must be a state GitProc can run: every unit valid, no cycle, no missing Requires.
                    var units = await LoadUnitsAsync(sha, token).ConfigureAwait(false);
                    Validate(units);
                },
                cancellationToken).ConfigureAwait(false);
            _logger.RolledBack(target.ShortSha, created.Sha);
            var sync = await SyncUnderGateAsync(explicitRequest: true, cancellationToken).ConfigureAwait(false);
            return new RollbackResult(target.Sha, created.Sha, sync);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Applies new commits until cancelled: woken by the branch watcher (which also checks the reference files
    /// every <see cref="GitOptions.PollInterval"/>, since a watch can miss events, e.g. on network file systems),
    /// with a full check every minute as a safety net, and fetching the remote every
    /// <see cref="GitOptions.FetchInterval"/> when one is configured. Errors are logged once per distinct message and
    /// never end the loop.
    /// </summary>
    public async Task WatchAsync(CancellationToken cancellationToken)
    {
        using var wake = new SemaphoreSlim(0, 1);
        void Wake()
        {
            try
            {
                if (wake.CurrentCount == 0)
                {
                    wake.Release();
                }
            }
            catch (SemaphoreFullException)
            {
                // Already awake.
            }
            catch (ObjectDisposedException)
            {
                // The loop ended.
            }
        }

        using var watch = _git.WatchBranch(Wake);
        var nextFetch = _time.GetUtcNow();
        string? lastError = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (_options.Git.RemoteUrl is not null && _time.GetUtcNow() >= nextFetch)
                {
                    nextFetch = _time.GetUtcNow() + _options.Git.FetchInterval;
                    await _git.FetchAsync(cancellationToken).ConfigureAwait(false);
                }

                await SyncIfChangedAsync(cancellationToken).ConfigureAwait(false);
                lastError = null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (CommitRejectedException)
            {
                // Logged when rejected.
            }
            catch (GitProcException ex)
            {
                if (ex.Message != lastError)
                {
                    _logger.WatchFailed(ex.Message);
                    lastError = ex.Message;
                }
            }

            try
            {
                await wake.WaitAsync(NextWake(nextFetch, retrying: lastError is not null), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// How long the watch loop sleeps: until the watcher wakes it (it checks the reference files every
    /// <see cref="GitOptions.PollInterval"/> itself), the next fetch is due, or the safety-net interval ends;
    /// after a failure, one poll interval, so a repository that reappears is picked up as quickly as a commit.
    /// </summary>
    private TimeSpan NextWake(DateTimeOffset nextFetch, bool retrying)
    {
        var wait = retrying || _options.Git.PollInterval > SafetyNetInterval ? _options.Git.PollInterval : SafetyNetInterval;
        if (_options.Git.RemoteUrl is not null)
        {
            var untilFetch = nextFetch - _time.GetUtcNow();
            wait = untilFetch < TimeSpan.Zero ? TimeSpan.Zero : untilFetch < wait ? untilFetch : wait;
        }

        return wait;
    }

    private async Task<SyncResult> SyncUnderGateAsync(bool explicitRequest, CancellationToken cancellationToken)
    {
        try
        {
            return await SyncFromGitAsync(explicitRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (GitException ex)
        {
            if (Volatile.Read(ref _applied) is null && _supervisor.AppliedUnits is { Count: > 0 } units && _lastGood is { } lastGood)
            {
                // A daemon starting on a repository it cannot read (a corrupt or missing object, say) runs what was
                // applied before, from the state's copy of those units, until the repository can be read again.
                _logger.RunningFromState(lastGood, units.Count, ex.Message);
                await _supervisor.ApplyAsync(units, lastGood, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _applied, lastGood);
            }

            throw;
        }
    }

    private async Task<SyncResult> SyncFromGitAsync(bool explicitRequest, CancellationToken cancellationToken)
    {
        string? tip;
        try
        {
            tip = await _git.GetBranchTipAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (GitException ex)
        {
            RecordGitError(ex.Message, commit: null);
            throw;
        }

        ClearGitError(commitRead: false);
        if (tip is null)
        {
            // An empty repository: nothing is desired yet.
            return new SyncResult(string.Empty, Empty);
        }

        var applied = Volatile.Read(ref _applied);
        if (tip == applied)
        {
            return new SyncResult(tip, Empty);
        }

        IReadOnlyList<UnitFile> units;
        IReadOnlyList<DependencyDiagnostic> ignored;
        try
        {
            try
            {
                units = await LoadUnitsAsync(tip, cancellationToken).ConfigureAwait(false);
            }
            catch (GitException ex)
            {
                RecordGitError(ex.Message, tip);
                throw;
            }

            ClearGitError(commitRead: true);
            ignored = Validate(units);
        }
        catch (UnitCheckException ex)
        {
            throw await RejectAsync(tip, ex.FileName, ex.Line > 0 ? ex.Line : null, ex.Message, explicitRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (DependencyException ex)
        {
            throw await RejectAsync(tip, null, null, ex.Message, explicitRequest, cancellationToken).ConfigureAwait(false);
        }

        LogIgnored(tip, units, ignored);
        var changes = await _supervisor.ApplyAsync(units, tip, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _applied, tip);
        _lastGood = tip;
        Volatile.Write(ref _rejected, null);
        return new SyncResult(tip, changes);
    }

    /// <summary>
    /// Records a rejected tip. When nothing has been applied yet in this run (a daemon starting on a bad tip),
    /// the last good commit from the previous run is applied instead, so its services keep running.
    /// </summary>
    private async Task<GitProcException> RejectAsync(string tip, string? file, int? line, string reason, bool explicitRequest, CancellationToken cancellationToken)
    {
        var rejection = new RejectedCommit(tip, file, line, reason, _time.GetUtcNow());
        var isNew = Volatile.Read(ref _rejected)?.Commit != tip;
        Volatile.Write(ref _rejected, rejection);
        if (isNew || explicitRequest)
        {
            _logger.CommitRejected(tip, reason);
        }

        if (Volatile.Read(ref _applied) is null && _lastGood is { } lastGood && lastGood != tip)
        {
            try
            {
                var units = await LoadUnitsAsync(lastGood, cancellationToken).ConfigureAwait(false);
                await _supervisor.ApplyAsync(units, lastGood, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _applied, lastGood);
            }
            catch (GitProcException ex)
            {
                _logger.LastGoodFailed(lastGood, ex.Message);
            }
        }

        var shortSha = tip.Length > 7 ? tip[..7] : tip;
        return new CommitRejectedException(rejection, $"Commit {shortSha} rejected, nothing applied: {reason}");
    }

    /// <summary>Remembers a failed read, for status: of the repository or its tip (<paramref name="commit"/> null), or of a commit's units.</summary>
    private void RecordGitError(string message, string? commit)
    {
        lock (_errorLock)
        {
            _gitError = message;
            _gitErrorCommit = commit;
        }
    }

    /// <summary>
    /// Forgets a failed read once reading works again: any error once a commit's units were read, an error of the
    /// repository or its tip once the tip was read.
    /// </summary>
    private void ClearGitError(bool commitRead)
    {
        lock (_errorLock)
        {
            if (commitRead || _gitErrorCommit is null)
            {
                _gitError = null;
                _gitErrorCommit = null;
            }
        }
    }

    /// <summary>
    /// Reads and checks a commit's units as <c>gitproc check --commit</c> does: every file parsed and the set's
    /// dependencies checked, so a rejection lists every error of every file, not only the first.
    /// </summary>
    /// <exception cref="UnitCheckException">The units are invalid.</exception>
    private async Task<IReadOnlyList<UnitFile>> LoadUnitsAsync(string commit, CancellationToken cancellationToken)
    {
        var files = await _git.ReadUnitFilesAsync(commit, cancellationToken).ConfigureAwait(false);
        var check = new UnitCheck(_parser, _serviceProvider).Check(files.Select(static f => new UnitSource(f.FileName, f.Content)));
        return check.IsValid ? check.Units : throw new UnitCheckException(check);
    }

    /// <summary>Throws for a dependency error; returns what is ignored with a warning (non-service dependencies).</summary>
    private IReadOnlyList<DependencyDiagnostic> Validate(IReadOnlyList<UnitFile> units)
    {
        var resolver = _serviceProvider.GetRequiredService<IDependencyResolver>();
        foreach (var unit in units)
        {
            resolver.AddUnit(unit);
        }

        _ = resolver.GetStartOrder();
        return resolver.Validate().Warnings;
    }

    /// <summary>
    /// Logs what an applied commit has that GitProc ignores (unknown or misplaced keys, dependencies on things that
    /// are not services), as systemd logs "Unknown key name ..., ignoring": a typo in a key must not pass silently.
    /// Once per applied commit.
    /// </summary>
    private void LogIgnored(string commit, IReadOnlyList<UnitFile> units, IReadOnlyList<DependencyDiagnostic> dependencyWarnings)
    {
        var shortSha = commit.Length > 7 ? commit[..7] : commit;
        foreach (var unit in units)
        {
            foreach (var warning in unit.Warnings)
            {
                _logger.UnitWarning(shortSha, warning.ToString());
            }
        }

        foreach (var warning in dependencyWarnings)
        {
            _logger.UnitWarning(shortSha, warning.Message);
        }
    }

    private static readonly ApplyResult Empty = new([], [], [], []);

    // The watch loop reads the branch tip at least this often even when nothing woke it.
    private static readonly TimeSpan SafetyNetInterval = TimeSpan.FromMinutes(1);
}
