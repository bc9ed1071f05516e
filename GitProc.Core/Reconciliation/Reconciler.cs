using GitProc.Delivery;
using GitProc.Dependencies;
using GitProc.Git;
using GitProc.Metrics;
using GitProc.State;
using GitProc.Supervision;
using GitProc.UnitFiles;
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
    private readonly IDeliveryHistory _history;
    private readonly DeliveryVerifier _verifier;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _errorLock = new();

    // The last set known good (verified, or running before this run): what a commit failing verification gives way to.
    private (string? Commit, IReadOnlyList<UnitFile> Units)? _good;
    private Verification? _verifying;
    private bool _historyLoaded;

    private string? _applied;
    private string? _lastGood;
    private RejectedCommit? _rejected;
    private string? _gitError;
    private string? _gitErrorCommit;

    public Reconciler(
        IGitIntegration git,
        IUnitFileParser parser,
        ISupervisor supervisor,
        IDeliveryHistory history,
        IServiceProvider serviceProvider,
        IOptions<GitProcOptions> options,
        TimeProvider timeProvider,
        ILogger<Reconciler> logger)
    {
        _git = git;
        _parser = parser;
        _supervisor = supervisor;
        _history = history;
        _verifier = new DeliveryVerifier(supervisor, options.Value.Delivery, timeProvider);
        _serviceProvider = serviceProvider;
        _options = options.Value;
        _time = timeProvider;
        _logger = logger;
        serviceProvider.GetService<GitProcMetrics>()?.Observe(this);
    }

    public ReconcilerStatus Status => new(_options.WatchBranch, Volatile.Read(ref _applied), Volatile.Read(ref _rejected))
    {
        GitError = Volatile.Read(ref _gitError),
        VerifyingCommit = Volatile.Read(ref _verifying)?.Commit,
        VerifyingUntil = Volatile.Read(ref _verifying)?.Until,
        LastRollback = _history.Records.FirstOrDefault() is { Result: DeliveryResult.RolledBack } rollback ? rollback : null,
    };

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

            if (tip is null || tip == Volatile.Read(ref _applied) || tip == Volatile.Read(ref _rejected)?.Commit
                || _history.Find(tip)?.Result == DeliveryResult.RolledBack)
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

        // The daemon is stopping its services next: a trial in progress ends without a verdict (the next run counts
        // the commit as applied), rather than mistaking the shutdown for a failed release.
        if (Volatile.Read(ref _verifying) is { } verification)
        {
            await verification.Stop.CancelAsync().ConfigureAwait(false);
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
            // A daemon starting on a repository it cannot read (a corrupt or missing object, say) runs what was
            // applied before, from the state's copy of those units, until the repository can be read again.
            await ResumeLastGoodAsync(ex.Message, cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// When nothing has been applied yet in this run (a daemon starting on a tip it cannot or must not apply): applies
    /// what the previous run applied — the state's copy of its units, or the commit read again where the state has
    /// none — so its services run (and those that died meanwhile start again).
    /// </summary>
    private async Task ResumeLastGoodAsync(string why, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _applied) is not null || _lastGood is not { } lastGood)
        {
            return;
        }

        try
        {
            var units = _supervisor.AppliedUnits is { Count: > 0 } recorded ? recorded : await LoadUnitsAsync(lastGood, cancellationToken).ConfigureAwait(false);
            _logger.RunningFromState(lastGood, units.Count, why);
            await _supervisor.ApplyAsync(units, lastGood, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _applied, lastGood);
            _good = (lastGood, units);
        }
        catch (GitProcException ex)
        {
            _logger.LastGoodFailed(lastGood, ex.Message);
        }
    }

    private async Task<SyncResult> SyncFromGitAsync(bool explicitRequest, CancellationToken cancellationToken)
    {
        await LoadHistoryAsync(cancellationToken).ConfigureAwait(false);
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

        if (_history.Find(tip) is { Result: DeliveryResult.RolledBack } rolledBack)
        {
            var shortTip = tip.Length > 7 ? tip[..7] : tip;
            await ResumeLastGoodAsync($"the tip {shortTip} was rolled back", cancellationToken).ConfigureAwait(false);
            throw new GitProcException(
                $"Commit {shortTip} was rolled back ({rolledBack.RollbackReason}) and is not applied again; commit a fix or a revert to move on.");
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
            if (RefuseEmpty(units) is { } refusal)
            {
                throw await RejectAsync(tip, null, null, refusal, explicitRequest, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (UnitFileParseException ex)
        {
            throw await RejectAsync(tip, ex.FileName, ex.Line > 0 ? ex.Line : null, ex.Message, explicitRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (DependencyException ex)
        {
            throw await RejectAsync(tip, null, null, ex.Message, explicitRequest, cancellationToken).ConfigureAwait(false);
        }

        LogIgnored(tip, units, ignored);
        var record = await NewRecordAsync(tip, cancellationToken).ConfigureAwait(false);

        // What runs now is the set to give way to should this commit fail, unless it is itself still on trial: then the
        // commit before it stays the one to return to, and the one on trial is superseded.
        if (Volatile.Read(ref _verifying) is { } superseded)
        {
            await EndVerificationAsync(superseded, DeliveryResult.Superseded, null, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            _good ??= (applied ?? _lastGood, _supervisor.AppliedUnits);
        }

        var changes = await _supervisor.ApplyAsync(units, tip, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _applied, tip);
        _lastGood = tip;
        Volatile.Write(ref _rejected, null);

        var onTrial = changes.Started.Concat(changes.Restarted).ToList();
        record = record with
        {
            Applied = _time.GetUtcNow(),
            Result = onTrial.Count > 0 ? DeliveryResult.Verifying : DeliveryResult.Applied,
            Started = changes.Started,
            Restarted = changes.Restarted,
            Stopped = changes.Stopped,
        };
        await _history.RecordAsync(record, cancellationToken).ConfigureAwait(false);
        if (onTrial.Count > 0)
        {
            StartVerification(tip, units, onTrial);
        }
        else
        {
            _good = (tip, units);
        }

        return new SyncResult(tip, changes);
    }

    /// <summary>
    /// Reads the history once. A commit a previous run was still verifying when it stopped counts as applied: its
    /// services have run since, and this run verifies what it applies itself.
    /// </summary>
    private async Task LoadHistoryAsync(CancellationToken cancellationToken)
    {
        if (_historyLoaded)
        {
            return;
        }

        await _history.LoadAsync(cancellationToken).ConfigureAwait(false);
        _historyLoaded = true;
        foreach (var stale in _history.Records.Where(r => r.Result == DeliveryResult.Verifying))
        {
            await _history.UpdateAsync(
                stale.Commit,
                r => r with { Result = DeliveryResult.Applied, Errors = [.. r.Errors, "verification was interrupted when the daemon stopped"] },
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A new history record for a commit: its author and subject, when Git can tell them.</summary>
    private async Task<DeliveryRecord> NewRecordAsync(string commit, CancellationToken cancellationToken)
    {
        var record = new DeliveryRecord { Commit = commit, Received = _time.GetUtcNow() };
        try
        {
            var info = await _git.GetCommitAsync(commit, cancellationToken).ConfigureAwait(false);
            return record with { Author = $"{info.AuthorName} <{info.AuthorEmail}>", Subject = info.Subject };
        }
        catch (GitException)
        {
            return record;
        }
    }

    public async Task<DeliveryPlan> PlanAsync(string? revision = null, CancellationToken cancellationToken = default)
    {
        var commit = revision is null
            ? await _git.GetBranchTipAsync(cancellationToken: cancellationToken).ConfigureAwait(false)
                ?? throw new GitProcException($"The branch {_options.WatchBranch} has no commit yet: there is nothing to plan.")
            : (await _git.GetCommitAsync(revision, cancellationToken).ConfigureAwait(false)).Sha;
        try
        {
            var units = await LoadUnitsAsync(commit, cancellationToken).ConfigureAwait(false);
            Validate(units);
            return RefuseEmpty(units) is { } refusal
                ? new DeliveryPlan(commit, null, [refusal])
                : new DeliveryPlan(commit, _supervisor.Plan(units), []);
        }
        catch (Exception ex) when (ex is UnitFileParseException or DependencyException)
        {
            return new DeliveryPlan(commit, null, [ex.Message]);
        }
    }

    public async Task<DeliveryRecord?> WaitForVerdictAsync(string commit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(commit);
        if (Volatile.Read(ref _verifying) is { } verification && verification.Commit == commit)
        {
            return await verification.Verdict.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        await _history.LoadAsync(cancellationToken).ConfigureAwait(false);
        return _history.Find(commit);
    }

    /// <summary>Starts watching the services a commit started or restarted, in the background.</summary>
    private void StartVerification(string commit, IReadOnlyList<UnitFile> units, List<string> services)
    {
        var verification = new Verification(commit, units, _time.GetUtcNow() + _options.Delivery.VerifyWindow);
        Volatile.Write(ref _verifying, verification);
        _ = Task.Run(async () =>
        {
            string? failure;
            try
            {
                failure = await _verifier.VerifyAsync(services, verification.Stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                if (Volatile.Read(ref _verifying) == verification)
                {
                    await EndVerificationAsync(verification, failure is null ? DeliveryResult.Applied : DeliveryResult.RolledBack, failure, CancellationToken.None)
                        .ConfigureAwait(false);
                }
            }
            finally
            {
                _gate.Release();
            }
        });
    }

    /// <summary>
    /// Ends a commit's trial (under the gate): passed, superseded by a newer commit, or failed — then the last good set
    /// is put back (unless <see cref="DeliveryOptions.AutoRollback"/> is off) and the commit is never applied again.
    /// </summary>
    private async Task EndVerificationAsync(Verification verification, DeliveryResult result, string? failure, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _verifying, null);
        await verification.Stop.CancelAsync().ConfigureAwait(false);
        var shortSha = verification.Commit[..Math.Min(7, verification.Commit.Length)];
        if (result == DeliveryResult.Applied)
        {
            _good = (verification.Commit, verification.Units);
            _logger.CommitVerified(shortSha);
        }
        else if (result == DeliveryResult.RolledBack && (!_options.Delivery.AutoRollback || _good is not { Commit: not null }))
        {
            // Rolling back needs an earlier commit to return to: the first commit a daemon ever applies has none, and
            // stopping everything is no remedy for one bad service.
            failure = _options.Delivery.AutoRollback ? $"{failure}; nothing earlier to roll back to" : failure;
            result = DeliveryResult.Applied;
            _good = (verification.Commit, verification.Units);
            _logger.CommitFailedVerification(shortSha, failure!);
        }
        else if (result == DeliveryResult.RolledBack && _good is { } good)
        {
            var restoredShort = good.Commit is { } c ? c[..Math.Min(7, c.Length)] : "no commit";
            _logger.CommitRolledBack(shortSha, restoredShort, failure!);
            try
            {
                await _supervisor.ApplyAsync(good.Units, good.Commit, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _applied, good.Commit);
                _lastGood = good.Commit;
            }
            catch (GitProcException ex)
            {
                _logger.LastGoodFailed(restoredShort, ex.Message);
            }
        }

        await _history.UpdateAsync(
            verification.Commit,
            record => record with
            {
                Result = result,
                Errors = failure is null ? record.Errors : [.. record.Errors, failure],
                RollbackReason = result == DeliveryResult.RolledBack ? failure : null,
                RestoredCommit = result == DeliveryResult.RolledBack ? _good?.Commit : null,
            },
            cancellationToken).ConfigureAwait(false);
        verification.Verdict.TrySetResult(_history.Find(verification.Commit));
        verification.Stop.Dispose();
    }

    /// <summary>A commit on trial: until when, the units to keep should it pass, and its verdict for whoever waits.</summary>
    private sealed class Verification(string commit, IReadOnlyList<UnitFile> units, DateTimeOffset until)
    {
        public string Commit { get; } = commit;

        public IReadOnlyList<UnitFile> Units { get; } = units;

        public DateTimeOffset Until { get; } = until;

        public CancellationTokenSource Stop { get; } = new();

        public TaskCompletionSource<DeliveryRecord?> Verdict { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
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

        if (_lastGood != tip)
        {
            await ResumeLastGoodAsync($"the tip {tip[..Math.Min(7, tip.Length)]} was rejected", cancellationToken).ConfigureAwait(false);
        }

        if (_history.Find(tip) is null || explicitRequest)
        {
            var record = await NewRecordAsync(tip, cancellationToken).ConfigureAwait(false);
            await _history.RecordAsync(record with { Result = DeliveryResult.Rejected, Errors = [reason] }, cancellationToken).ConfigureAwait(false);
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

    private async Task<IReadOnlyList<UnitFile>> LoadUnitsAsync(string commit, CancellationToken cancellationToken)
    {
        var files = await _git.ReadUnitFilesAsync(commit, cancellationToken).ConfigureAwait(false);
        var units = new List<UnitFile>(files.Count);
        foreach (var file in files)
        {
            units.Add(_parser.Parse(file.FileName, file.Content));
        }

        return units;
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

    /// <summary>Why a commit with no unit at all is refused while services run, unless empty commits are allowed.</summary>
    private string? RefuseEmpty(IReadOnlyList<UnitFile> units)
    {
        var running = _supervisor.AppliedUnits.Count;
        return units.Count > 0 || running == 0 || _options.Delivery.AllowEmpty
            ? null
            : $"the commit removes every unit ({running} services would stop); set Delivery:AllowEmpty=true to apply such commits";
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
