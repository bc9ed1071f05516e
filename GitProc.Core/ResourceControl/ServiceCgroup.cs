using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;

namespace GitProc.ResourceControl;

/// <summary>What both backends share: membership, signalling, removal and the CPU-percent window.</summary>
[SupportedOSPlatform("linux")]
internal abstract class ServiceCgroup : IServiceCgroup
{
    private const int SigKill = 9;

    // Bounds KillAllAsync against a process that forks as fast as it is signalled (TasksMax bounds it in practice).
    private const int MaxKillRounds = 1000;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    // The kernel refuses a CFS quota below 1 ms.
    private const long MinQuotaMicroseconds = 1_000;

    private readonly TimeSpan _removeTimeout;
    private readonly SemaphoreSlim _removeLock = new(1, 1);
    private readonly Lock _sampleLock = new();
    private TimeSpan _lastCpuTime;
    private long _lastTimestamp;
    private bool _removed;

    protected ServiceCgroup(
        string service,
        IReadOnlyList<string> directories,
        string joinFileName,
        ResourceLimits limits,
        TimeSpan removeTimeout,
        TimeProvider timeProvider,
        ILogger logger)
    {
        Service = service;
        Directories = directories;
        ProcsFiles = directories.Select(d => Path.Combine(d, "cgroup.procs")).ToArray();
        JoinFiles = directories.Select(d => Path.Combine(d, joinFileName)).ToArray();
        Limits = limits;
        _removeTimeout = removeTimeout;
        TimeProvider = timeProvider;
        Logger = logger;
        _lastTimestamp = timeProvider.GetTimestamp();
    }

    public string Service { get; }

    public abstract ResourceControlBackend Backend { get; }

    public IReadOnlyList<string> Directories { get; }

    public IReadOnlyList<string> ProcsFiles { get; }

    public IReadOnlyList<string> JoinFiles { get; }

    public ResourceLimits Limits { get; private set; }

    protected TimeProvider TimeProvider { get; }

    protected ILogger Logger { get; }

    public async Task<ResourceUsage> GetUsageAsync(CancellationToken cancellationToken = default)
    {
        var memory = await ReadMemoryBytesAsync(cancellationToken).ConfigureAwait(false);
        var cpu = await ReadCpuTimeAsync(cancellationToken).ConfigureAwait(false);
        var tasks = await ReadTaskCountAsync(cancellationToken).ConfigureAwait(false);

        double? percent = null;
        if (cpu is { } cpuTime)
        {
            var now = TimeProvider.GetTimestamp();
            lock (_sampleLock)
            {
                var wall = TimeProvider.GetElapsedTime(_lastTimestamp, now);
                if (wall > TimeSpan.Zero)
                {
                    percent = Math.Max(0, (cpuTime - _lastCpuTime).TotalSeconds / wall.TotalSeconds * 100);
                }

                _lastCpuTime = cpuTime;
                _lastTimestamp = now;
            }
        }

        return new ResourceUsage(memory, cpu, percent, tasks);
    }

    public async Task<IReadOnlyList<int>> GetPidsAsync(CancellationToken cancellationToken = default)
    {
        var pids = new SortedSet<int>();
        foreach (var file in ProcsFiles)
        {
            pids.UnionWith(await CgroupFiles.ReadPidsAsync(file, cancellationToken).ConfigureAwait(false));
        }

        return pids.ToArray();
    }

    public abstract Task<long> GetOomKillCountAsync(CancellationToken cancellationToken = default);

    public async Task KillAllAsync(int signal, CancellationToken cancellationToken = default)
    {
        if (signal == SigKill && await TryKillByKernelAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        // A process may fork between our reading cgroup.procs and the signal arriving, so read again and signal
        // whatever is new until a reading finds nothing new: nothing can leave the cgroup by forking.
        var signalled = new HashSet<int>();
        for (var round = 0; round < MaxKillRounds; round++)
        {
            var fresh = (await GetPidsAsync(cancellationToken).ConfigureAwait(false)).Where(signalled.Add).ToList();
            if (fresh.Count == 0)
            {
                return;
            }

            foreach (var pid in fresh)
            {
                if (Interop.ResourceControl.Kill(pid, signal) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != Interop.ResourceControl.ESRCH)
                    {
                        Log.SignalFailed(Logger, signal, pid, Service, Marshal.GetPInvokeErrorMessage(errno));
                    }
                }
            }
        }
    }

    public async Task AddProcessAsync(int pid, CancellationToken cancellationToken = default)
    {
        if (pid <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pid), pid, "A pid is a positive number (0 would name the calling process itself).");
        }

        if (pid == Environment.ProcessId)
        {
            throw new ArgumentException(
                $"Process {pid} is the calling process: in the cgroup of service {Service}, stopping the service or removing the cgroup would kill it.",
                nameof(pid));
        }

        // Under the removal's lock: a process moved in while RemoveAsync empties the cgroup would be killed half-way
        // through the move or keep the directories from being removed.
        await _removeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_removed)
            {
                throw new ResourceControlException(
                    Service, Directories[0], $"Cannot add process {pid} to the cgroup of service {Service}: the cgroup was removed.");
            }

            // cgroup.procs rather than the join files' tasks: a running process may have threads, and all must move.
            foreach (var procsFile in ProcsFiles)
            {
                await CgroupFiles.MoveProcessAsync(procsFile, pid, Service, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _removeLock.Release();
        }

        Log.ProcessAdded(Logger, pid, Service);
    }

    public async Task UpdateLimitsAsync(ResourceLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        await ApplyLimitsAsync(limits, cancellationToken).ConfigureAwait(false);
        Limits = limits;
        Log.LimitsApplied(Logger, Service, limits);
    }

    public async Task RemoveAsync(CancellationToken cancellationToken = default)
    {
        await _removeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_removed)
            {
                return;
            }

            await KillAndWaitUntilEmptyAsync(cancellationToken).ConfigureAwait(false);

            var deadline = TimeProvider.GetTimestamp();
            foreach (var directory in Directories)
            {
                // The kernel may report a cgroup busy for a moment after its last process is reaped.
                while (true)
                {
                    try
                    {
                        RemoveCgroupDirectory(directory);
                        break;
                    }
                    catch (IOException ex) when (ex.HResult == CgroupFiles.ErrnoBusy && TimeProvider.GetElapsedTime(deadline) < _removeTimeout)
                    {
                        await Task.Delay(PollInterval, TimeProvider, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        throw new ResourceControlException(
                            Service,
                            directory,
                            $"Cannot remove the cgroup of service {Service}: removing {directory} failed: {ex.Message}",
                            ex);
                    }
                }
            }

            _removed = true;
            Log.Removed(Logger, Service);
        }
        finally
        {
            _removeLock.Release();
        }
    }

    // The lock is not disposed: RemoveAsync must stay callable (and a no-op) after disposal. SemaphoreSlim holds no
    // native handle unless AvailableWaitHandle is used.
    public ValueTask DisposeAsync() => new(RemoveAsync());

    /// <summary>SIGKILLs everything in the cgroup until it is empty, within the remove timeout.</summary>
    internal async Task KillAndWaitUntilEmptyAsync(CancellationToken cancellationToken)
    {
        var start = TimeProvider.GetTimestamp();
        while (true)
        {
            IReadOnlyList<int> pids;
            try
            {
                pids = await GetPidsAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceControlException ex) when (ResourceShortage.Is(ex) && TimeProvider.GetElapsedTime(start) < _removeTimeout)
            {
                // Out of descriptors for a moment: keep trying until the timeout rather than leave processes behind.
                await Task.Delay(PollInterval, TimeProvider, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (pids.Count == 0)
            {
                return;
            }

            if (TimeProvider.GetElapsedTime(start) >= _removeTimeout)
            {
                throw new ResourceControlException(
                    Service,
                    Directories[0],
                    $"The cgroup of service {Service} still holds process(es) {string.Join(", ", pids)} {_removeTimeout.TotalSeconds:0.#} s after SIGKILL; "
                    + $"they may be stuck in the kernel (state D). Remove {string.Join(", ", Directories)} once they are gone.");
            }

            // Repeated every round: in v1 a process forked while the previous round was signalling is only seen now.
            try
            {
                await KillAllAsync(SigKill, cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceControlException ex) when (ResourceShortage.Is(ex))
            {
                // Retried with the next round.
            }

            await Task.Delay(PollInterval, TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Records the CPU time at the start of the first <see cref="ResourceUsage.CpuPercent"/> window.</summary>
    internal async Task StartCpuWindowAsync(CancellationToken cancellationToken)
    {
        var cpu = await ReadCpuTimeAsync(cancellationToken).ConfigureAwait(false) ?? TimeSpan.Zero;
        lock (_sampleLock)
        {
            _lastCpuTime = cpu;
            _lastTimestamp = TimeProvider.GetTimestamp();
        }
    }

    /// <summary>
    /// Removes a cgroup directory. Its interface files go with it on cgroupfs; in a plain directory laid out like
    /// cgroupfs (the tests' fake), the files written are still there, so those are deleted first.
    /// </summary>
    internal static void RemoveCgroupDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: false);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException ex) when (ex.HResult == CgroupFiles.ErrnoNotEmpty && !Directory.EnumerateDirectories(directory).Any())
        {
            foreach (var file in Directory.EnumerateFiles(directory))
            {
                File.Delete(file);
            }

            Directory.Delete(directory, recursive: false);
        }
    }

    /// <summary>The CFS quota for <paramref name="percent"/> of one CPU over <paramref name="period"/> microseconds.</summary>
    protected static long CpuQuotaMicroseconds(int percent, long period) => Math.Max(MinQuotaMicroseconds, percent * period / 100);

    internal abstract Task ApplyLimitsAsync(ResourceLimits limits, CancellationToken cancellationToken);

    protected abstract Task<long?> ReadMemoryBytesAsync(CancellationToken cancellationToken);

    protected abstract Task<TimeSpan?> ReadCpuTimeAsync(CancellationToken cancellationToken);

    protected abstract Task<long?> ReadTaskCountAsync(CancellationToken cancellationToken);

    /// <summary>Kills every process at once where the kernel offers it; <see langword="false"/> to signal one by one.</summary>
    protected virtual Task<bool> TryKillByKernelAsync(CancellationToken cancellationToken) => Task.FromResult(false);
}
