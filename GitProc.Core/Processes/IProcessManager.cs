namespace GitProc.Processes;

/// <summary>
/// Starts and stops the processes of services on Linux: argv executed directly (no shell), each main process
/// in its own session so its whole tree can be signalled, exits observed as events with exit code or signal.
/// </summary>
public interface IProcessManager
{
    /// <summary>
    /// Starts <see cref="ProcessLaunch.Command"/> of <see cref="ProcessLaunch.Unit"/> as a long-running process
    /// and returns once it has been executed (for a missing or non-executable program, or a user that does not
    /// exist, it throws instead).
    /// </summary>
    /// <param name="launch">What to start and how.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running process.</returns>
    /// <exception cref="ProcessStartException">The process could not be started; the message says why.</exception>
    Task<IServiceProcess> StartAsync(ProcessLaunch launch, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a command to completion (<c>ExecStartPre</c>, <c>ExecStartPost</c>, <c>ExecStop</c>, a oneshot's
    /// <c>ExecStart</c>). When <paramref name="timeout"/> passes first, the command's tree is stopped and the
    /// result says it timed out.
    /// </summary>
    /// <param name="launch">What to run and how.</param>
    /// <param name="timeout">How long it may run; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <param name="cancellationToken">Stops the command (its tree is killed) and cancels the wait.</param>
    /// <returns>How it ended.</returns>
    /// <exception cref="ProcessStartException">The process could not be started.</exception>
    Task<ProcessExit> RunAsync(ProcessLaunch launch, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether a process recorded earlier (perhaps by a previous daemon) is still that same process: the pid is
    /// alive and its start time in <c>/proc</c> matches, so a reused pid is never mistaken for it.
    /// </summary>
    /// <param name="pid">The recorded pid.</param>
    /// <param name="startTicks">The recorded start time (<see cref="ProcessInfo.StartTicks"/>).</param>
    /// <returns><see langword="true"/> when that very process still runs.</returns>
    bool IsSameProcessAlive(int pid, long startTicks);

    /// <summary>
    /// Takes over a service's main process that was started earlier — by this process before it re-executed itself
    /// (an in-place upgrade), or by a daemon that has since died — without disturbing it: its exit is watched from
    /// now on, and its output is read again from the pipe recorded in <paramref name="recorded"/>
    /// (<see cref="ProcessInfo.OutputPipe"/>) into <see cref="ProcessLaunch.Output"/>. The exit status is exact when
    /// this process is its parent (after re-executing); a process whose parent became init exits with
    /// <see cref="ProcessExit.Unknown"/> unless its status could still be read while it was a zombie.
    /// </summary>
    /// <param name="launch">The unit and command it runs, where its output goes, its cgroups (as for a start).</param>
    /// <param name="recorded">The process as recorded: pid, start ticks (which tell it from a reused pid), output pipe.</param>
    /// <returns>The process, or <see langword="null"/> when that very process no longer runs (the output writer is then disposed).</returns>
    IServiceProcess? Adopt(ProcessLaunch launch, ProcessInfo recorded);

    /// <summary>
    /// Stops observing processes for good, for an in-place upgrade: exits are no longer reaped and output no longer
    /// read, so both wait in the kernel until the re-executed daemon takes the processes over
    /// (<see cref="Adopt"/>). Processes keep running; nothing of theirs is lost.
    /// </summary>
    void Suspend();

    /// <summary>
    /// Stops a process recorded earlier that is not a child of this process (a previous daemon's service):
    /// signals its process group, waits up to <paramref name="timeout"/>, then SIGKILLs what is left. Does
    /// nothing unless <see cref="IsSameProcessAlive"/> holds.
    /// </summary>
    /// <param name="pid">The recorded pid.</param>
    /// <param name="startTicks">The recorded start time.</param>
    /// <param name="signal">The first signal to send.</param>
    /// <param name="timeout">Time before SIGKILL.</param>
    /// <param name="cancellationToken">Cancels the wait (the SIGKILL is still sent).</param>
    /// <returns>A task that completes when no process of that group remains.</returns>
    Task StopRecordedAsync(int pid, long startTicks, int signal, TimeSpan timeout, CancellationToken cancellationToken = default);
}
