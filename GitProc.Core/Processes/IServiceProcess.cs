namespace GitProc.Processes;

/// <summary>A running service process started by <see cref="IProcessManager.StartAsync"/>.</summary>
public interface IServiceProcess : IAsyncDisposable
{
    /// <summary>The process: pid, start time.</summary>
    ProcessInfo Info { get; }

    /// <summary>Completes when the main process has exited (reaped), with its exit code or signal.</summary>
    Task<ProcessExit> Exited { get; }

    /// <summary>
    /// Stops the process with its whole tree (process group, and its cgroup when it has one): sends
    /// <paramref name="signal"/>, waits up to <paramref name="timeout"/>, then SIGKILLs what is left. Completes
    /// once no process of the tree remains. Safe to call after the process has exited, and more than once.
    /// </summary>
    /// <param name="signal">The stop signal (the unit's <c>KillSignal</c>).</param>
    /// <param name="timeout">Time between the signal and SIGKILL (the unit's <c>TimeoutStopSec</c>).</param>
    /// <returns>How the main process ended.</returns>
    Task<ProcessExit> StopAsync(int signal, TimeSpan timeout);
}
