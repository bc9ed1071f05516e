namespace GitProc.Daemon;

/// <summary>
/// What makes a process the one GitProc daemon of its state, ready to run services: done once, first thing at start,
/// before the IPC socket is bound and before the supervisor recovers anything. GitProc.Hosting's daemon runs it; an
/// application running the GitOps loop in its own host runs it before
/// <see cref="Supervision.ISupervisor.InitializeAsync"/>.
/// </summary>
public interface IDaemonStartup : IDisposable
{
    /// <summary>
    /// Takes the exclusive lock beside the state file (<c>STATE.lock</c>, held until disposal, so a second daemon with
    /// the same state refuses to start); checks that the state and log directories can be written and that the units
    /// repository opens (or that the state holds units a previous run applied, which then run until it is back); claims
    /// the cgroup root (<see cref="ResourceControl.ResourceControlOptions.CgroupRoot"/>) against a second daemon; and
    /// raises the open-file soft limit to the hard limit, keeping a few descriptors in reserve so that running out of
    /// them degrades starts instead of failing the daemon. A check applies to GitProc's own component only: an
    /// application that registered its own state manager, log store or reconciler owns what those need. Call it once.
    /// </summary>
    /// <param name="cancellationToken">Cancels the checks.</param>
    /// <returns>A task that completes once the process may run services.</returns>
    /// <exception cref="Locking.LockHeldException">Another daemon owns the state or the cgroup root; nothing was touched.</exception>
    /// <exception cref="GitProcException">
    /// The daemon cannot work: no repository and nothing applied before, or a directory it cannot write. The message
    /// says what and where, in one sentence; nothing but the state lock was touched.
    /// </exception>
    Task PrepareAsync(CancellationToken cancellationToken = default);
}
