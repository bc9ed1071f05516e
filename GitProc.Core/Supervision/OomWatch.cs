using System.Globalization;
using GitProc.ResourceControl;
using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>
/// Watches one service cgroup's OOM-kill counter (v2 <c>memory.events</c> <c>oom_kill</c>, v1
/// <c>memory.oom_control</c> <c>oom_kill</c>) so that an OOM kill of any process of the service is noticed when it
/// happens, not only when the main process ends. Each kill is handed out once, to whichever asks first: the poll loop
/// (<see cref="StartAsync"/>'s callback) or the exit handling (<see cref="TakeNewKillsAsync"/>).
/// </summary>
/// <remarks>
/// Why polling: it is the one mechanism that works the same on a v1 hierarchy (this project's machines: v1 memory
/// controller, an empty v2 mount) and on a pure v2 host. v1's notification (an eventfd registered through
/// <c>cgroup.event_control</c> on <c>memory.oom_control</c>) signals the cgroup entering OOM, not a kill, needs a
/// blocked read or an epoll registration per service, and does not exist in v2; v2's <c>memory.events</c> raises
/// inotify events, but v1's files raise none. One read of a small cgroup file per service and interval costs a few
/// microseconds, the exit handling reads the counter again, so a result is never misclassified however late a poll
/// comes, and the delay before an <c>OOMPolicy=stop</c> service with a surviving main process is stopped is one
/// interval at most.
/// </remarks>
internal sealed class OomWatch : IDisposable
{
    private readonly IServiceCgroup _cgroup;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private long _seen;
    private PeriodicTimer? _timer;

    // Consecutive polls whose reading failed, and ticks left to skip: a daemon out of descriptors (EMFILE releases its
    // descriptor reserve) is not pressed every interval by a background read it can do later.
    private int _failures;
    private int _skip;

    // Completed (and replaced) each time the poll loop has handled a tick: a poll that finds nothing leaves no other
    // trace, and a test must know that one ran to see that it changed nothing.
    private TaskCompletionSource _polled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private OomWatch(IServiceCgroup cgroup, long seen)
    {
        _cgroup = cgroup;
        _seen = seen;
    }

    /// <summary>
    /// Reads the counter as it is now (kills from before are not the service's: a cgroup is taken over or reused) and
    /// polls it every <paramref name="interval"/>, calling <paramref name="onKills"/> with the number of new kills.
    /// </summary>
    public static async Task<OomWatch> StartAsync(
        IServiceCgroup cgroup, TimeSpan interval, TimeProvider time, Func<long, CancellationToken, Task> onKills)
    {
        var watch = new OomWatch(cgroup, await ReadAsync(cgroup, CancellationToken.None).ConfigureAwait(false) ?? 0);
        if (interval > TimeSpan.Zero)
        {
            watch._timer = new PeriodicTimer(interval, time);
            _ = watch.PollAsync(onKills);
        }

        return watch;
    }

    /// <summary>The kills since the last call (or the last poll that found some); 0 when the counter cannot be read.</summary>
    public async Task<long> TakeNewKillsAsync(CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await ReadAsync(_cgroup, cancellationToken).ConfigureAwait(false) is not { } count)
            {
                _skip = 1 << Math.Min(++_failures, 5);
                return 0;
            }

            _failures = 0;
            if (count <= _seen)
            {
                return 0;
            }

            var fresh = count - _seen;
            _seen = count;
            return fresh;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Completes when the poll loop has handled the next tick of its timer (read the counter and called back with what
    /// it found, or skipped the tick after failed readings). Taken before the clock moves, it stands for that tick.
    /// </summary>
    internal Task NextPoll => Volatile.Read(ref _polled).Task;

    /// <summary>
    /// What a service's status says of an OOM kill: <c>out of memory (OOM killer, MemoryMax=64M)</c>, the limit as
    /// systemd prints sizes (the largest base-1024 unit that divides it).
    /// </summary>
    public static string Reason(UnitFile unit) =>
        unit.MemoryLimit is { } limit ? $"out of memory (OOM killer, MemoryMax={FormatBytes(limit)})" : "out of memory (OOM killer)";

    internal static string FormatBytes(long bytes)
    {
        foreach (var (suffix, size) in new[] { ("T", 1L << 40), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10) })
        {
            if (bytes >= size && bytes % size == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / size}{suffix}");
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Stops polling (a callback in progress is cancelled); does not wait, so a callback waiting for the caller cannot
    /// deadlock. The timer is disposed rather than the loop cancelled, so stopping throws nothing in the daemon's
    /// steady state (a restart stops one watch and starts another).
    /// </summary>
    /// <remarks>The token source is cancelled, not disposed: a callback may still be reading its token.</remarks>
    public void Dispose()
    {
        _stop.Cancel();
        _timer?.Dispose();
    }

    private async Task PollAsync(Func<long, CancellationToken, Task> onKills)
    {
        var token = _stop.Token;
        try
        {
            while (_timer is { } timer && await timer.WaitForNextTickAsync(CancellationToken.None).ConfigureAwait(false) && !token.IsCancellationRequested)
            {
                if (_skip > 0)
                {
                    _skip--;
                }
                else
                {
                    var fresh = await TakeNewKillsAsync(CancellationToken.None).ConfigureAwait(false);
                    if (fresh > 0 && !token.IsCancellationRequested)
                    {
                        await onKills(fresh, token).ConfigureAwait(false);
                    }
                }

                Interlocked.Exchange(ref _polled, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && token.IsCancellationRequested)
        {
            // Stopped while a callback waited for the service's controller.
        }
    }

    private static async Task<long?> ReadAsync(IServiceCgroup cgroup, CancellationToken cancellationToken)
    {
        try
        {
            return await cgroup.GetOomKillCountAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or GitProcException)
        {
            // Removed meanwhile, or short of descriptors: the next reading tells.
            return null;
        }
    }
}
