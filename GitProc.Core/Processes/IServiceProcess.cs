namespace GitProc.Processes;

/// <summary>A running service process started by <see cref="IProcessManager.StartAsync"/>.</summary>
/// <remarks>
/// Disposing stops whatever is left of the tree (with the unit's <c>KillSignal</c> and <c>TimeoutStopSec</c>), so
/// a disposed process never leaves orphans; it does nothing more once the tree is gone.
/// </remarks>
public interface IServiceProcess : IAsyncDisposable
{
    /// <summary>The process: pid, start time.</summary>
    ProcessInfo Info { get; }

    /// <summary>Completes when the main process has exited (reaped), with its exit code or signal.</summary>
    Task<ProcessExit> Exited { get; }

    /// <summary>
    /// Completes when the output pipe has reached end of file (every process holding it has closed it or exited)
    /// and <see cref="ProcessLaunch.Output"/> has been disposed, so a partial last line is stored. This can be later
    /// than <see cref="Exited"/>: a forked grandchild may keep the pipe open. Completed at once without output.
    /// </summary>
    Task OutputCompleted { get; }

    /// <summary>
    /// Stops the process with its whole tree (process group, and its cgroup when it has one): sends
    /// <paramref name="signal"/>, waits up to <paramref name="timeout"/>, then SIGKILLs what is left. Completes
    /// once no process of the tree remains. Safe to call after the process has exited, and more than once.
    /// </summary>
    /// <param name="signal">The stop signal (the unit's <c>KillSignal</c>).</param>
    /// <param name="timeout">Time between the signal and SIGKILL (the unit's <c>TimeoutStopSec</c>).</param>
    /// <returns>How the main process ended.</returns>
    Task<ProcessExit> StopAsync(int signal, TimeSpan timeout);

    /// <summary>
    /// Sends <paramref name="signal"/> to the main process alone (through its pidfd, so a reused pid is never hit),
    /// as a reload does with <c>ReloadSignal=</c>.
    /// </summary>
    /// <param name="signal">The signal number.</param>
    /// <returns><see langword="false"/> when the main process is gone.</returns>
    bool Signal(int signal);
}
