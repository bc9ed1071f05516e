using System.Text.Json;
using GitProc.Delivery;
using GitProc.Events;
using GitProc.Git;
using GitProc.Metrics;
using GitProc.State;
using GitProc.Supervision;
using GitProc.Targeting;
using GitProc.UnitFiles;
using GitProc.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Reconciliation;

/// <summary>
/// The default <see cref="IReconciler"/>: reads every unit at the tip of the watched branch (from the commit,
/// never the working tree), validates the whole set, and hands it to the supervisor, which starts, restarts and
/// stops exactly what changed. A rejected commit changes nothing; the last good commit keeps running.
/// </summary>
internal sealed class Reconciler : IReconciler, IDisposable
{
    // The tip the last fetch brought, for its history record: when it came, and the tip a force-push replaced.
    private Arrival? _arrival;

    private readonly IGitIntegration _git;
    private readonly ICommitSignatureVerifier _signatures;
    private readonly IUnitCheck _check;
    private readonly ISupervisor _supervisor;
    private readonly TimeProvider _time;
    private readonly ILogger<Reconciler> _logger;
    private readonly GitOptions _gitOptions;
    private readonly DeliveryOptions _delivery;
    private readonly TargetingOptions _targeting;
    private readonly IDeliveryHistory _history;
    private readonly DeliveryVerifier _verifier;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _fetchGate = new(1, 1);
    private readonly Lock _errorLock = new();
    private readonly IEventStream? _events;
    private readonly FetchSchedule _schedule;

    // The last set known good (verified, or running before this run): what a commit failing verification gives way to.
    private (string? Commit, IReadOnlyList<UnitFile> Units)? _good;
    private Verification? _verifying;
    private bool _historyLoaded;
    private volatile bool _disposed;

    private string? _applied;
    private string? _lastGood;
    private RejectedCommit? _rejected;
    private string? _gitError;
    private string? _gitErrorCommit;
    private FetchStatus? _fetchStatus;

    // What applying _applied did and what its units have that GitProc does not act on: for sync and status. Replaced
    // with _applied (MarkApplied), read without the gate.
    private AppliedReport _report = new(null, Empty, NoWarnings) { Reported = true };

    public Reconciler(
        IGitIntegration git,
        IUnitCheck check,
        ISupervisor supervisor,
        IDeliveryHistory history,
        ICommitSignatureVerifier signatures,
        IOptions<GitOptions> gitOptions,
        IOptions<DeliveryOptions> delivery,
        IOptions<TargetingOptions> targeting,
        IOptions<PathOptions> paths,
        TimeProvider timeProvider,
        ILogger<Reconciler>? logger = null,
        IEventStream? events = null,
        GitProcMetrics? metrics = null)
    {
        _events = events;
        _git = git;
        _check = check;
        _supervisor = supervisor;
        _history = history;
        _signatures = signatures;
        _gitOptions = gitOptions.Value;
        _delivery = delivery.Value;
        _targeting = targeting.Value;
        _verifier = new DeliveryVerifier(supervisor, _delivery, timeProvider, events);
        _time = timeProvider;
        _logger = logger ?? NullLogger<Reconciler>.Instance;
        _schedule = new FetchSchedule(_gitOptions, _targeting.HostName + "\n" + paths.Value.RepositoryPath, Random.Shared.NextDouble);
        if (_gitOptions.RemoteUrl is { } url && !string.IsNullOrWhiteSpace(url))
        {
            _fetchStatus = new FetchStatus { Remote = RemoteAddress.Redact(url), NextFetch = timeProvider.GetUtcNow() };
        }

        metrics?.Observe(this);
    }

    public ReconcilerStatus Status => new(_targeting.WatchBranch, Volatile.Read(ref _applied), Volatile.Read(ref _rejected))
    {
        GitError = Volatile.Read(ref _gitError),
        Warnings = Volatile.Read(ref _report).Warnings,
        VerifyingCommit = Volatile.Read(ref _verifying)?.Commit,
        VerifyingUntil = Volatile.Read(ref _verifying)?.Until,
        LastRollback = _history.Newest is { Result: DeliveryResult.RolledBack } rollback ? rollback : null,
        Fetch = Volatile.Read(ref _fetchStatus),
    };

    /// <summary>
    /// Ends a trial in progress without a verdict: the services are being stopped with the container, and nothing may be
    /// written (the history's directory may be gone) once its owner has let go.
    /// </summary>
    public void Dispose()
    {
        _disposed = true;
        if (Volatile.Read(ref _verifying) is { } verification)
        {
            try
            {
                verification.Stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The trial ended meanwhile.
            }
        }
    }

    /// <summary>The commit a previous run applied (from the state), used when the tip is rejected at start-up.</summary>
    internal void ResumeFrom(string? appliedCommit) => _lastGood = appliedCommit;

    public Task<SyncResult> ResumeAsync(string? appliedCommit, CancellationToken cancellationToken = default)
    {
        ResumeFrom(appliedCommit);
        return SyncAsync(fetch: false, cancellationToken);
    }

    public Task<SyncResult> SyncAsync(CancellationToken cancellationToken = default) => SyncAsync(fetch: true, cancellationToken);

    /// <summary>
    /// <see cref="SyncAsync(CancellationToken)"/>, fetching the remote first (when one is set) only if
    /// <paramref name="fetch"/>: the daemon's first sync applies the local tip, so a daemon starting offline runs.
    /// </summary>
    internal async Task<SyncResult> SyncAsync(bool fetch, CancellationToken cancellationToken)
    {
        if (fetch && _gitOptions.RemoteUrl is not null)
        {
            await FetchAsync(cancellationToken).ConfigureAwait(false);
        }

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
        if (_gitOptions.RequireSignedCommits)
        {
            // The commit a rollback makes carries no signature (the daemon holds no signing key), so it would only be
            // rejected: refused before anything is written.
            throw new GitProcException(
                $"Rollback is refused while Git:RequireSignedCommits is on: the commit it makes would be unsigned, and rejected. " +
                $"Make a signed commit with the tree of {commit} instead: git revert -S, or git restore --source={commit} --staged --worktree . && git commit -S.")
            {
                Code = GitProcErrorCodes.NotSupported,
            };
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var target = await _git.GetCommitAsync(commit, cancellationToken).ConfigureAwait(false);
            var created = await _git.RollbackAsync(
                target.Sha,
                async (sha, token) =>
                {
                    // The target must be a state GitProc can run: every unit valid, no cycle, no missing Requires.
                    _ = await LoadUnitsAsync(sha, token).ConfigureAwait(false);
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

        using var watch = new RetryingBranchWatch(_git, Wake, _logger);
        string? lastError = null;
        void Report(GitProcException ex)
        {
            if (ex.Message != lastError)
            {
                _logger.WatchFailed(ex.Message);
                lastError = ex.Message;
            }
        }

        // A fetch runs beside the loop, so a slow or hung remote (bounded by Git:FetchTimeout) never holds back a commit
        // made on the host itself; it wakes the loop when it ends, and its outcome is in the fetch status.
        Task? fetching = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (fetching is { IsCompleted: true })
            {
                fetching = null;
            }

            if (fetching is null && Volatile.Read(ref _fetchStatus)?.NextFetch is { } due && _time.GetUtcNow() >= due)
            {
                fetching = FetchInBackgroundAsync(cancellationToken);

                // Woken once the task has completed (not from inside it), so the loop sees it done and schedules the next.
                _ = fetching.ContinueWith(static (_, wake) => ((Action)wake!)(), (Action)Wake, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            try
            {
                watch.EnsureStarted();
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
                Report(ex);
            }

            try
            {
                var nextFetch = fetching is null ? Volatile.Read(ref _fetchStatus)?.NextFetch : null;
                await wake.WaitAsync(NextWake(nextFetch, retrying: lastError is not null || !watch.IsStarted), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (fetching is not null)
        {
            // Cancelled with the loop: the git process is stopped; nothing of it may outlive the daemon's stop.
            await fetching.ConfigureAwait(false);
        }

        // The daemon is stopping its services next: a trial in progress ends without a verdict (the next run counts
        // the commit as applied), rather than mistaking the shutdown for a failed release.
        if (Volatile.Read(ref _verifying) is { } verification)
        {
            await verification.Stop.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The watch loop's fetch: its failure is in the fetch status and the log, not the loop's business.</summary>
    private async Task FetchInBackgroundAsync(CancellationToken cancellationToken)
    {
        try
        {
            await FetchAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (GitProcException)
        {
            // Recorded and logged by FetchAsync; retried when the backoff says.
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The daemon is stopping.
        }
    }

    /// <summary>
    /// One fetch at a time: the watch loop's and an explicit <c>sync</c>'s would race for the same references. Records
    /// the outcome, and when to fetch next, in the fetch status.
    /// </summary>
    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        await _fetchGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            FetchResult fetched;
            try
            {
                fetched = await _git.FetchAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                var failure = FetchFailed(ex.Message);
                _logger.FetchFailed(failure.ConsecutiveFailures, failure.NextFetch!.Value, ex.Message);
                _events?.Publish(new GitProcEvent { Type = EventTypes.GitFetch, Outcome = "failed", Reason = ex.Message });
                if (ex is GitProcException)
                {
                    throw;
                }

                throw new GitException(ex.Message, ex);
            }

            if (fetched.Outcome != FetchOutcome.NoRemote)
            {
                var outcome = JsonNamingPolicy.SnakeCaseLower.ConvertName(fetched.Outcome.ToString());
                FetchSucceeded(outcome);
                if (fetched is { Outcome: FetchOutcome.FastForwarded or FetchOutcome.Forced, Tip: { } tip })
                {
                    // What the history record of this tip says about how it came (written when it is applied).
                    Volatile.Write(ref _arrival, new Arrival(tip, _time.GetUtcNow(), fetched.Outcome == FetchOutcome.Forced ? fetched.PreviousTip : null));
                }

                _events?.Publish(new GitProcEvent
                {
                    Type = EventTypes.GitFetch,
                    Outcome = outcome,
                    Commit = fetched.Tip,
                    PreviousCommit = fetched.PreviousTip,
                });
            }
        }
        finally
        {
            _fetchGate.Release();
        }
    }

    private void FetchSucceeded(string outcome)
    {
        var now = _time.GetUtcNow();
        if (Volatile.Read(ref _fetchStatus) is { } status)
        {
            Volatile.Write(ref _fetchStatus, status with
            {
                LastFetch = now,
                LastOutcome = outcome,
                LastError = null,
                LastSuccess = now,
                ConsecutiveFailures = 0,
                NextFetch = _schedule.NextAfterSuccess(now),
            });
        }
    }

    private FetchStatus FetchFailed(string error)
    {
        var now = _time.GetUtcNow();
        var status = Volatile.Read(ref _fetchStatus) ?? new FetchStatus { Remote = RemoteAddress.Redact(_gitOptions.RemoteUrl ?? "") };
        var failures = status.ConsecutiveFailures + 1;
        status = status with
        {
            LastFetch = now,
            LastOutcome = "failed",
            LastError = error,
            ConsecutiveFailures = failures,
            NextFetch = now + _schedule.RetryDelay(failures),
        };
        Volatile.Write(ref _fetchStatus, status);
        return status;
    }

    /// <summary>
    /// How long the watch loop sleeps: until the watcher wakes it (it checks the reference files every
    /// <see cref="GitOptions.PollInterval"/> itself), the next fetch is due (none while one runs), or the safety-net interval ends;
    /// after a failure, one poll interval, so a repository that reappears is picked up as quickly as a commit.
    /// </summary>
    private TimeSpan NextWake(DateTimeOffset? nextFetch, bool retrying)
    {
        var wait = retrying || _gitOptions.PollInterval > SafetyNetInterval ? _gitOptions.PollInterval : SafetyNetInterval;
        if (nextFetch is { } due)
        {
            var untilFetch = due - _time.GetUtcNow();
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
            var changes = await _supervisor.ApplyAsync(units, lastGood, cancellationToken).ConfigureAwait(false);
            MarkApplied(lastGood, units, changes, ParseWarnings(units), reported: true);
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
        if (tip == applied && Volatile.Read(ref _rejected)?.Commit != tip)
        {
            // Applied already, by the watcher while this sync waited for the gate, or moments before it came: what that
            // apply did is reported once, so that `git commit; gitproc sync` says what the commit did whoever applied it.
            var report = Volatile.Read(ref _report);
            var news = explicitRequest && !report.Reported && report.Commit == tip;
            report.Reported |= explicitRequest;
            return new SyncResult(tip, news ? report.Changes : Empty) { Warnings = AllWarnings(report.Warnings) };
        }

        if (_history.Find(tip) is { Result: DeliveryResult.RolledBack } rolledBack)
        {
            var shortTip = CommitText.Short(tip);
            await ResumeLastGoodAsync($"the tip {shortTip} was rolled back", cancellationToken).ConfigureAwait(false);
            throw new GitProcException(
                $"Commit {shortTip} was rolled back ({rolledBack.RollbackReason}) and is not applied again; commit a fix or a revert to move on.");
        }

        // The signature before the units: what an untrusted commit holds is not even parsed.
        string? untrusted;
        try
        {
            untrusted = await SignatureProblemAsync(tip, logTrusted: true, cancellationToken).ConfigureAwait(false);
        }
        catch (GitException ex)
        {
            RecordGitError(ex.Message, tip);
            throw;
        }

        if (untrusted is not null)
        {
            ClearGitError(commitRead: true);

            // A tip the previous run applied, untrusted only now (signing was just required): what it runs keeps running,
            // from the state, and shows as rejected (sync says so again) until a trusted commit comes. Stopping every
            // service because the policy changed would make the daemon the outage.
            await ResumeLastGoodAsync($"the tip {CommitText.Short(tip)} is not trusted ({untrusted})", cancellationToken).ConfigureAwait(false);
            throw await RejectAsync(tip, null, null, untrusted, [untrusted], explicitRequest, cancellationToken).ConfigureAwait(false);
        }

        UnitCheckResult check;
        try
        {
            check = await _check.CheckCommitAsync(tip, cancellationToken).ConfigureAwait(false);
        }
        catch (GitException ex)
        {
            RecordGitError(ex.Message, tip);
            throw;
        }

        ClearGitError(commitRead: true);
        if (!check.IsValid)
        {
            var invalid = new UnitCheckException(check);
            throw await RejectAsync(
                tip,
                invalid.FileName,
                invalid.Line > 0 ? invalid.Line : null,
                invalid.Message,
                [.. check.Errors.Select(static e => e.ToString())],
                explicitRequest,
                cancellationToken).ConfigureAwait(false);
        }

        var units = check.Units;
        if (RefuseEmpty(units) is { } refusal)
        {
            throw await RejectAsync(tip, null, null, refusal, [refusal], explicitRequest, cancellationToken).ConfigureAwait(false);
        }

        LogWarnings(tip, check.Warnings);
        var resuming = applied is null && tip == _lastGood && _history.Find(tip) is { Result: DeliveryResult.Applied };
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
        var applyReport = MarkApplied(tip, units, changes, check.Warnings, reported: explicitRequest);
        _lastGood = tip;
        Volatile.Write(ref _rejected, null);

        if (resuming)
        {
            // The commit the previous run applied and kept: its record stays as that run wrote it, and what this apply
            // started is what died while no daemon ran, not a new release to judge.
            _good = (tip, units);
            return new SyncResult(tip, changes) { Warnings = AllWarnings(applyReport.Warnings) };
        }

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
        _events?.Publish(new GitProcEvent
        {
            Type = EventTypes.CommitApplied,
            Commit = tip,
            Started = changes.Started,
            Restarted = changes.Restarted,
            Stopped = changes.Stopped,
        });
        if (onTrial.Count > 0)
        {
            StartVerification(tip, units, onTrial);
        }
        else
        {
            _good = (tip, units);
        }

        return new SyncResult(tip, changes) { Warnings = AllWarnings(applyReport.Warnings) };
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

        // A fetch that moves the branch wakes the watcher, which can get here before the fetch has said how the tip came:
        // wait for the fetch under way (it never waits for an apply) rather than record a fetched commit as local.
        if (_fetchGate.CurrentCount == 0 && Volatile.Read(ref _arrival)?.Tip != commit)
        {
            await _fetchGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            _fetchGate.Release();
        }

        if (Volatile.Read(ref _arrival) is { } arrival && arrival.Tip == commit)
        {
            record = record with { Fetched = arrival.Fetched, ReplacedCommit = arrival.Replaced };
        }

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

    public Task<DeliveryPlan> PlanAsync(string? revision = null, CancellationToken cancellationToken = default) =>
        PlanAsync(revision, _targeting.HostName, _supervisor.Plan, cancellationToken);

    public Task<DeliveryPlan> PlanForHostAsync(string? revision, HostIdentity host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        return PlanAsync(revision, host.HostName, units => HostPlan.For(_supervisor.AppliedUnits, units, host), cancellationToken);
    }

    /// <summary>Resolves and checks the revision as an apply would, then plans its units with <paramref name="plan"/>.</summary>
    private async Task<DeliveryPlan> PlanAsync(
        string? revision, string host, Func<IReadOnlyCollection<UnitFile>, ApplyPlan> plan, CancellationToken cancellationToken)
    {
        var commit = revision is null
            ? await _git.GetBranchTipAsync(cancellationToken: cancellationToken).ConfigureAwait(false)
                ?? throw new GitProcException($"The branch {_targeting.WatchBranch} has no commit yet: there is nothing to plan.")
            : (await _git.GetCommitAsync(revision, cancellationToken).ConfigureAwait(false)).Sha;
        if (await SignatureProblemAsync(commit, logTrusted: false, cancellationToken).ConfigureAwait(false) is { } untrusted)
        {
            return new DeliveryPlan(commit, null, [untrusted]);
        }

        var check = await _check.CheckCommitAsync(commit, cancellationToken).ConfigureAwait(false);
        return (!check.IsValid
            ? new DeliveryPlan(commit, null, [.. check.Errors.Select(static e => e.ToString())])
            : RefuseEmpty(check.Units) is { } refusal
                ? new DeliveryPlan(commit, null, [refusal])
                : new DeliveryPlan(commit, plan(check.Units), [])) with { Host = host };
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
        var verification = new Verification(commit, units, _time.GetUtcNow() + _delivery.VerifyWindow);
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
                if (Volatile.Read(ref _verifying) == verification && !_disposed)
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
        var shortSha = CommitText.Short(verification.Commit);
        if (result == DeliveryResult.Applied)
        {
            _good = (verification.Commit, verification.Units);
            _logger.CommitVerified(shortSha);
        }
        else if (result == DeliveryResult.RolledBack && (!_delivery.AutoRollback || _good is not { Commit: not null }))
        {
            // Rolling back needs an earlier commit to return to: the first commit a daemon ever applies has none, and
            // stopping everything is no remedy for one bad service.
            failure = _delivery.AutoRollback ? $"{failure}; nothing earlier to roll back to" : failure;
            result = DeliveryResult.Applied;
            _good = (verification.Commit, verification.Units);
            _logger.CommitFailedVerification(shortSha, failure!);
        }
        else if (result == DeliveryResult.RolledBack && _good is { } good)
        {
            var restoredShort = good.Commit is { } c ? CommitText.Short(c) : "no commit";
            _logger.CommitRolledBack(shortSha, restoredShort, failure!);
            try
            {
                var changes = await _supervisor.ApplyAsync(good.Units, good.Commit, cancellationToken).ConfigureAwait(false);
                MarkApplied(good.Commit, good.Units, changes, ParseWarnings(good.Units), reported: true);
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
        _events?.Publish(new GitProcEvent
        {
            Type = result switch
            {
                DeliveryResult.RolledBack => EventTypes.CommitRolledBack,
                DeliveryResult.Superseded => EventTypes.CommitSuperseded,
                _ => EventTypes.CommitVerified,
            },
            Commit = verification.Commit,
            Reason = failure,
            RestoredCommit = result == DeliveryResult.RolledBack ? _good?.Commit : null,
        });
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
    /// <param name="tip">The rejected commit.</param>
    /// <param name="file">The file of the first error, when one is at fault.</param>
    /// <param name="line">Its line, when known.</param>
    /// <param name="reason">The whole reason, as shown by status and sync.</param>
    /// <param name="errors">Every error, one per entry (each diagnostic as gitproc check prints it), for the history.</param>
    /// <param name="explicitRequest">Whether a person asked (sync): logged and recorded again even when already known.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    private async Task<GitProcException> RejectAsync(
        string tip, string? file, int? line, string reason, IReadOnlyList<string> errors, bool explicitRequest, CancellationToken cancellationToken)
    {
        var rejection = new RejectedCommit(tip, file, line, reason, _time.GetUtcNow());
        var isNew = Volatile.Read(ref _rejected)?.Commit != tip;
        Volatile.Write(ref _rejected, rejection);
        if (isNew || explicitRequest)
        {
            _logger.CommitRejected(tip, reason);
            _events?.Publish(new GitProcEvent { Type = EventTypes.CommitRejected, Commit = tip, Reason = reason, Errors = errors });
        }

        if (_lastGood != tip)
        {
            await ResumeLastGoodAsync($"the tip {CommitText.Short(tip)} was rejected", cancellationToken).ConfigureAwait(false);
        }

        if (_history.Find(tip) is null || explicitRequest)
        {
            var record = await NewRecordAsync(tip, cancellationToken).ConfigureAwait(false);
            // One entry per diagnostic, so history shows every one on its own line.
            await _history.RecordAsync(record with { Result = DeliveryResult.Rejected, Errors = errors }, cancellationToken).ConfigureAwait(false);
        }

        var shortSha = CommitText.Short(tip);
        return new CommitRejectedException(rejection, $"Commit {shortSha} rejected, nothing applied: {reason}");
    }

    /// <summary>
    /// Why a commit may not be applied under <see cref="GitOptions.RequireSignedCommits"/> (unsigned, an unknown key, a bad
    /// signature), as status, sync and plan show it; <see langword="null"/> when it is trusted or signatures are not required.
    /// </summary>
    /// <exception cref="GitException">The signature could not be verified (a trust file broken, a helper missing).</exception>
    private async Task<string?> SignatureProblemAsync(string commit, bool logTrusted, CancellationToken cancellationToken)
    {
        if (!_gitOptions.RequireSignedCommits)
        {
            return null;
        }

        var verdict = await _signatures.VerifyAsync(commit, cancellationToken).ConfigureAwait(false);
        if (!verdict.IsTrusted)
        {
            return verdict.Description;
        }

        if (logTrusted)
        {
            _logger.CommitSignatureTrusted(CommitText.Short(commit), verdict.Description);
        }

        return null;
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
    /// Reads and checks a commit's units with <see cref="IUnitCheck.CheckCommitAsync"/>, as <c>gitproc check --commit</c>
    /// does: every file parsed and the set's dependencies checked.
    /// </summary>
    /// <exception cref="UnitCheckException">The units are invalid; it lists every error of every file.</exception>
    private async Task<IReadOnlyList<UnitFile>> LoadUnitsAsync(string commit, CancellationToken cancellationToken)
    {
        var check = await _check.CheckCommitAsync(commit, cancellationToken).ConfigureAwait(false);
        return check.IsValid ? check.Units : throw new UnitCheckException(check);
    }

    /// <summary>Why a commit with no unit at all is refused while services run, unless empty commits are allowed.</summary>
    private string? RefuseEmpty(IReadOnlyList<UnitFile> units)
    {
        var running = _supervisor.AppliedUnits.Count;
        return units.Count > 0 || running == 0 || _delivery.AllowEmpty
            ? null
            : $"the commit removes every unit ({running} services would stop); set Delivery:AllowEmpty=true to apply such commits";
    }

    /// <summary>
    /// Logs what an applied commit has that GitProc keeps but does not act on (systemd keys it does not implement,
    /// dependencies on things that are not services), as systemd logs "Unknown key name ..., ignoring". Once per
    /// applied commit.
    /// </summary>
    private void LogWarnings(string commit, IReadOnlyList<UnitDiagnostic> warnings)
    {
        var shortSha = CommitText.Short(commit);
        foreach (var warning in warnings)
        {
            _logger.UnitWarning(shortSha, warning.ToString());
        }
    }

    /// <summary>
    /// Makes <c>commit</c> the applied one, with what its apply did and its warnings (under the gate). The last
    /// argument says whether an explicit sync or rollback made this apply, and so has reported it.
    /// </summary>
    private AppliedReport MarkApplied(
        string? commit, IReadOnlyList<UnitFile> units, ApplyResult changes, IReadOnlyList<UnitDiagnostic> warnings, bool reported)
    {
        var report = new AppliedReport(commit, changes, WarningsByService(units, warnings)) { Reported = reported };
        Volatile.Write(ref _report, report);
        Volatile.Write(ref _applied, commit);
        return report;
    }

    /// <summary>The parser's warnings of a set that ran before (put back from the state or a rollback, not re-read).</summary>
    private static IReadOnlyList<UnitDiagnostic> ParseWarnings(IReadOnlyList<UnitFile> units) =>
        [.. units.SelectMany(u => u.Warnings).Select(w => new UnitDiagnostic(w.FileName, w.Line, w.Key, w.Message))];

    /// <summary>
    /// A set's warnings as <c>FILE:LINE: KEY: message</c> text by service (the unit whose file a warning names), as
    /// <c>gitproc check</c> prints them.
    /// </summary>
    internal static IReadOnlyDictionary<string, IReadOnlyList<string>> WarningsByService(
        IReadOnlyList<UnitFile> units, IReadOnlyList<UnitDiagnostic> warnings)
    {
        var byService = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var warning in warnings)
        {
            var service = units.FirstOrDefault(u => u.FileName == warning.File || Path.GetFileName(u.FileName) == Path.GetFileName(warning.File))?.Name
                ?? Path.GetFileNameWithoutExtension(warning.File);
            if (!byService.TryGetValue(service, out var list))
            {
                byService[service] = list = [];
            }

            list.Add(warning.ToString());
        }

        return byService.Count == 0 ? NoWarnings : byService.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value.AsReadOnly(), StringComparer.Ordinal);
    }

    /// <summary>Every service's warnings, by service name.</summary>
    private static IReadOnlyList<string> AllWarnings(IReadOnlyDictionary<string, IReadOnlyList<string>> byService) =>
        [.. byService.OrderBy(p => p.Key, StringComparer.Ordinal).SelectMany(p => p.Value)];

    /// <summary>The applied commit, what its apply changed, and its warnings by service.</summary>
    private sealed record AppliedReport(string? Commit, ApplyResult Changes, IReadOnlyDictionary<string, IReadOnlyList<string>> Warnings)
    {
        /// <summary>Whether a sync has told a client about <see cref="Changes"/> yet (read and set under the gate).</summary>
        public bool Reported { get; set; }
    }

    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoWarnings = new Dictionary<string, IReadOnlyList<string>>();

    private static readonly ApplyResult Empty = new([], [], [], []);

    // The watch loop reads the branch tip at least this often even when nothing woke it.
    private static readonly TimeSpan SafetyNetInterval = TimeSpan.FromMinutes(1);

    private sealed record Arrival(string Tip, DateTimeOffset Fetched, string? Replaced);
}
