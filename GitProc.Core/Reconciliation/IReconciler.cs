using GitProc.Git;

namespace GitProc.Reconciliation;

/// <summary>
/// Applies the watched branch of the units repository to the supervisor: notices new commits,
/// rejects a commit with an invalid unit or a dependency cycle as a whole (or, with
/// <see cref="GitOptions.RequireSignedCommits"/>, one whose signature is not trusted: §12), and rolls back by a new commit.
/// </summary>
public interface IReconciler
{
    /// <summary>The applied commit and the last rejection.</summary>
    ReconcilerStatus Status { get; }

    /// <summary>
    /// Fetches the remote first when one is set (<see cref="GitOptions.RemoteUrl"/>), then reads the tip of the watched
    /// branch and applies it if it is new, and returns once the apply has finished.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>
    /// The applied commit, what applying it did — once: a sync that finds the tip applied by the watcher reports that
    /// apply if no sync has yet, and nothing if one has — and the commit's warnings. An empty commit when the branch has
    /// no commit yet.
    /// </returns>
    /// <exception cref="GitProcException">
    /// Git failed (the fetch, reading the repository, verifying a signature), or the tip was rejected (the message names
    /// commit, file, line and reason, or why its signature is not trusted).
    /// </exception>
    Task<SyncResult> SyncAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The first apply of a run, after <see cref="Supervision.ISupervisor.InitializeAsync"/> has taken the previous run's
    /// services over: applies the tip of the watched branch as it is locally, without fetching (a host starting offline
    /// still runs what it has; <see cref="WatchAsync"/> fetches right after), and returns once the apply has finished.
    /// If the tip is rejected or cannot be read, <paramref name="appliedCommit"/> stays the last good commit: its units
    /// keep running and a later good commit is applied over it.
    /// </summary>
    /// <param name="appliedCommit">
    /// The commit the previous run had applied, as <see cref="Supervision.ISupervisor.InitializeAsync"/> returned it;
    /// <see langword="null"/> on a first run.
    /// </param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>What <see cref="SyncAsync"/> returns: the applied commit (empty when the branch has no commit yet) and what applying it did.</returns>
    /// <exception cref="GitProcException">Reading the repository failed, or the tip was rejected; what ran keeps running.</exception>
    Task<SyncResult> ResumeAsync(string? appliedCommit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies new commits on the watched branch as they arrive, until <paramref name="cancellationToken"/> is cancelled:
    /// notices a new commit within a second (watching the branch's reference, with <see cref="GitOptions.PollInterval"/>
    /// polling as a fallback) and fetches the remote every <see cref="GitOptions.FetchInterval"/> when one is set. A
    /// rejected commit or a Git error is logged and recorded in <see cref="Status"/>, never ends the loop. Run it once,
    /// after <see cref="ResumeAsync"/>; GitProc.Hosting runs it for whichever <see cref="IReconciler"/> is registered.
    /// </summary>
    /// <param name="cancellationToken">Ends watching.</param>
    /// <returns>A task that completes once watching has ended (an apply in progress finishes first).</returns>
    Task WatchAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Makes a new commit on the watched branch whose tree equals <paramref name="commit"/>'s (message
    /// <c>Rollback to &lt;short sha&gt;</c>), after checking that its units are valid, then applies it.
    /// </summary>
    /// <param name="commit">A commit id (full or short), or any revision Git understands.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The restored commit, the new commit and what was applied.</returns>
    /// <exception cref="GitProcException">
    /// The target cannot be resolved or its units are invalid; or <see cref="GitOptions.RequireSignedCommits"/> is on, and the
    /// commit a rollback makes would be unsigned (code <see cref="GitProcErrorCodes.NotSupported"/>): nothing is written.
    /// </exception>
    Task<RollbackResult> RollbackAsync(string commit, CancellationToken cancellationToken = default);

    /// <summary>
    /// What applying <paramref name="revision"/> (default: the tip of the watched branch) would do now, service by
    /// service — the apply follows the same plan — or why it would be rejected (its units, or its signature when
    /// <see cref="GitOptions.RequireSignedCommits"/> is on). Changes nothing.
    /// </summary>
    /// <param name="revision">A commit id or anything Git resolves; <see langword="null"/> for the branch tip.</param>
    /// <param name="cancellationToken">Cancels the planning.</param>
    /// <returns>The plan, or the reasons it would be rejected.</returns>
    /// <exception cref="GitProcException">The revision cannot be resolved or read.</exception>
    Task<DeliveryPlan> PlanAsync(string? revision = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// What another host following the same branch would do applying <paramref name="revision"/>: which services it
    /// would start, restart, stop or leave, as decided by the units' <c>ConditionHost=</c> matched against
    /// <paramref name="host"/>, assuming it applied the same commit as this daemon. What only that host knows (an
    /// operator's stop there, a failed service) is not taken into account. Changes nothing.
    /// </summary>
    /// <param name="revision">A commit id or anything Git resolves; <see langword="null"/> for the branch tip.</param>
    /// <param name="host">The host's name and, for units that name a machine id, its machine id.</param>
    /// <param name="cancellationToken">Cancels the planning.</param>
    /// <returns>The plan, or the reasons the commit would be rejected.</returns>
    /// <exception cref="GitProcException">The revision cannot be resolved or read.</exception>
    Task<DeliveryPlan> PlanForHostAsync(string? revision, Targeting.HostIdentity host, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until the applied <paramref name="commit"/>'s verification ends (its services ran well through the verify
    /// window, or it was rolled back or superseded) and returns its record; at once when it is not being verified.
    /// </summary>
    /// <param name="commit">The full hash.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The commit's history record, or <see langword="null"/> when the daemon never saw it.</returns>
    Task<Delivery.DeliveryRecord?> WaitForVerdictAsync(string commit, CancellationToken cancellationToken = default);
}
