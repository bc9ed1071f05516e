namespace GitProc.ResourceControl;

/// <summary>
/// One service's cgroup (one directory per v1 controller hierarchy, one in v2). Disposing it removes it, killing
/// whatever is left in it.
/// </summary>
public interface IServiceCgroup : IAsyncDisposable
{
    /// <summary>The service the cgroup belongs to (also the cgroup's name).</summary>
    string Service { get; }

    /// <summary>The backend the cgroup lives in.</summary>
    ResourceControlBackend Backend { get; }

    /// <summary>The cgroup's directories: one in v2; one per controller hierarchy in v1.</summary>
    IReadOnlyList<string> Directories { get; }

    /// <summary>
    /// The <c>cgroup.procs</c> files that list the cgroup's processes (one in v2; one per controller hierarchy in
    /// v1): what a stop signals.
    /// </summary>
    IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>
    /// The files a process writes <c>0</c> ("myself") into to join the cgroup, before it executes the service's
    /// command so that nothing it forks escapes: v2 <c>cgroup.procs</c>; v1 <c>tasks</c> in each hierarchy.
    /// </summary>
    /// <remarks>
    /// The process joins itself (a shim: <c>/bin/sh -c 'echo 0 &gt; FILE; …; exec "$@"'</c>) rather than the
    /// supervisor moving it after the spawn: a process moved after the spawn may already have forked children that
    /// stay outside. Why <c>tasks</c> on v1: moving a whole process (<c>cgroup.procs</c>, or any pid but 0) takes a
    /// global lock whose write side waits for an RCU grace period, several milliseconds on a stock kernel and on
    /// every start; moving the calling thread (<c>0</c> into <c>tasks</c>) does not, and the single-threaded shim is
    /// its whole process. v2 allows no such move between cgroups; there <c>clone3(CLONE_INTO_CGROUP)</c> (Linux 5.7)
    /// would avoid the lock, but .NET cannot use it.
    /// </remarks>
    IReadOnlyList<string> JoinFiles { get; }

    /// <summary>The limits last applied.</summary>
    ResourceLimits Limits { get; }

    /// <summary>Reads what the cgroup uses now. Each call also starts the window of the next <see cref="ResourceUsage.CpuPercent"/>.</summary>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <returns>The usage.</returns>
    Task<ResourceUsage> GetUsageAsync(CancellationToken cancellationToken = default);

    /// <summary>The processes in the cgroup (in every hierarchy, for v1), in ascending order.</summary>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <returns>The process ids; empty when none is left or the cgroup was removed.</returns>
    Task<IReadOnlyList<int>> GetPidsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// How many processes the kernel's OOM killer has killed in the cgroup since it was created (v2
    /// <c>memory.events</c> <c>oom_kill</c>; v1 <c>memory.oom_control</c> <c>oom_kill</c>, kernel 4.13 or later, else 0).
    /// Compare before and after a process exits by SIGKILL to tell an OOM kill.
    /// </summary>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <returns>The count.</returns>
    Task<long> GetOomKillCountAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends <paramref name="signal"/> to every process in the cgroup, including those that left the service's
    /// process group or session (systemd's <c>KillMode=control-group</c>). Processes forked meanwhile are signalled
    /// too: the cgroup is read again until no unsignalled process is found. SIGKILL in v2 uses <c>cgroup.kill</c>
    /// where the kernel has it (5.14 or later). Does not wait for the processes to die.
    /// </summary>
    /// <param name="signal">The signal number (15 for SIGTERM, 9 for SIGKILL).</param>
    /// <param name="cancellationToken">Cancels the signalling.</param>
    /// <returns>A task that completes once every process found has been signalled.</returns>
    Task KillAllAsync(int signal, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the running process <paramref name="pid"/>, with all its threads, into the cgroup: its pid is written to
    /// every file of <see cref="ProcsFiles"/>. From then on the process counts against the cgroup's limits, is listed
    /// by <see cref="GetPidsAsync"/>, is signalled by <see cref="KillAllAsync"/> (so a stop of the service stops it) and
    /// is killed by <see cref="RemoveAsync"/>. Children it forked before stay where they are; what it forks afterwards
    /// is in the cgroup.
    /// </summary>
    /// <remarks>
    /// For a process started some other way: one started for the service joins by itself through
    /// <see cref="JoinFiles"/> before it executes the command, so nothing it forks escapes. Each write takes the
    /// kernel's global cgroup lock (a few milliseconds). In v1, when a write fails after the first hierarchy, the
    /// process stays in the hierarchies it was already moved into.
    /// </remarks>
    /// <param name="pid">The process id, as the calling process sees it.</param>
    /// <param name="cancellationToken">Cancels the move between hierarchies.</param>
    /// <returns>A task that completes once the process is in every hierarchy.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pid"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="pid"/> is the calling process, which a stop or a removal of the cgroup would kill.</exception>
    /// <exception cref="ResourceControlException">
    /// No process has that pid, the move was refused (it takes root, or write access to both cgroups), or the cgroup
    /// was removed; the message says which and names the pid.
    /// </exception>
    Task AddProcessAsync(int pid, CancellationToken cancellationToken = default);

    /// <summary>Applies new limits (<see langword="null"/> values remove a limit).</summary>
    /// <param name="limits">The limits.</param>
    /// <param name="cancellationToken">Cancels the update.</param>
    /// <returns>A task that completes once every limit is written.</returns>
    /// <exception cref="ResourceControlException">A limit could not be written; the message names the file and value.</exception>
    Task UpdateLimitsAsync(ResourceLimits limits, CancellationToken cancellationToken = default);

    /// <summary>
    /// Kills what is left in the cgroup with SIGKILL, waits until it is empty
    /// (<see cref="ResourceControlOptions.RemoveTimeout"/> at most) and removes its directories. Calling it again
    /// does nothing.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait (the cgroup is then left in place).</param>
    /// <returns>A task that completes once the cgroup is gone.</returns>
    /// <exception cref="ResourceControlException">Processes survived SIGKILL or a directory could not be removed.</exception>
    Task RemoveAsync(CancellationToken cancellationToken = default);
}
