using Microsoft.Extensions.Logging;

namespace GitProc.Git;

/// <summary>
/// Watches a repository's references with inotify (through <see cref="FileSystemWatcher"/>) and calls back once
/// per burst of changes. Git updates a reference by writing <c>NAME.lock</c> and renaming it over <c>NAME</c>, so
/// lock files are ignored and the rename is what counts.
/// <para>
/// Because a watch can miss events (network file systems, a repository replaced wholesale, an overflowing queue),
/// the reference files are also checked every poll interval, by their size and modification time only: a stat
/// per file and no Git read, so an idle daemon costs next to nothing while a missed change is still seen within
/// the interval.
/// </para>
/// </summary>
internal sealed class BranchWatcher : IDisposable
{
    // Long enough to fold a commit's several reference writes (branch, HEAD's reflog, packed-refs) into one call.
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(50);

    private readonly Action _onChanged;
    private readonly ILogger _logger;
    private readonly string _branch;
    private readonly string _path;
    private readonly FileSystemWatcher _gitDirectory;
    private readonly FileSystemWatcher _heads;
    private readonly ITimer _timer;
    private readonly Thread? _poll;
    private readonly TimeSpan _pollInterval;
    private readonly ManualResetEventSlim _stopPolling = new();
    private readonly string[] _referenceFiles;
    private (bool Exists, long Length, DateTime Written)[] _lastSeen;
    private int _pending;
    private volatile bool _disposed;

    public BranchWatcher(string gitDirectory, string branch, Action onChanged, TimeSpan pollInterval, TimeProvider timeProvider, ILogger logger)
    {
        _onChanged = onChanged;
        _logger = logger;
        _branch = branch;
        _path = gitDirectory;
        _timer = timeProvider.CreateTimer(_ => Fire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        var heads = Path.Combine(gitDirectory, "refs", "heads");
        Directory.CreateDirectory(heads);

        // HEAD and packed-refs live directly in the Git directory; objects/ is left out because a commit writes
        // many files there and none of them moves a branch.
        _gitDirectory = new FileSystemWatcher(gitDirectory)
        {
            IncludeSubdirectories = false,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite,
        };
        _heads = new FileSystemWatcher(heads)
        {
            // Branch names with '/' are directories.
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite,
        };

        foreach (var watcher in new[] { _gitDirectory, _heads })
        {
            watcher.Created += OnEvent;
            watcher.Changed += OnEvent;
            watcher.Deleted += OnEvent;
            watcher.Renamed += OnEvent;
            watcher.Error += OnError;
        }

        _gitDirectory.EnableRaisingEvents = true;
        _heads.EnableRaisingEvents = true;

        _referenceFiles = [Path.Combine(heads, branch), Path.Combine(gitDirectory, "packed-refs"), Path.Combine(gitDirectory, "HEAD")];
        _lastSeen = LookAtReferences();
        _pollInterval = pollInterval;
        if (pollInterval > TimeSpan.Zero && pollInterval != Timeout.InfiniteTimeSpan)
        {
            // A thread of its own rather than a timer: a timer callback wakes the thread pool every interval
            // (spinning workers, the pool's gate thread), which is most of what an idle daemon would cost.
            _poll = new Thread(PollLoop) { IsBackground = true, Name = "gitproc-ref-poll" };
            _poll.Start();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _gitDirectory.Dispose();
        _heads.Dispose();
        _stopPolling.Set();
        _poll?.Join();
        _stopPolling.Dispose();
        _timer.Dispose();
    }

    private void OnEvent(object sender, FileSystemEventArgs e)
    {
        var relevant = sender == _heads
            ? IsReference(e.Name) || (e is RenamedEventArgs r && IsReference(r.OldName))
            : e.Name is "HEAD" or "packed-refs";
        if (relevant)
        {
            Schedule();
        }
    }

    private void OnError(object sender, ErrorEventArgs e)
    {
        GitIntegration.Log.WatchError(_logger, e.GetException(), _path);

        // An overflow means events were lost, one of which may have moved the branch.
        Schedule();
    }

    private void PollLoop()
    {
        while (!_stopPolling.Wait(_pollInterval))
        {
            (bool, long, DateTime)[] seen;
            try
            {
                seen = LookAtReferences();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // An unreadable Git directory is the sync's to report; the next round looks again.
                continue;
            }

            if (!seen.AsSpan().SequenceEqual(_lastSeen))
            {
                _lastSeen = seen;
                Schedule();
            }
        }
    }

    private (bool Exists, long Length, DateTime Written)[] LookAtReferences()
    {
        var seen = new (bool, long, DateTime)[_referenceFiles.Length];
        for (var i = 0; i < seen.Length; i++)
        {
            var file = new FileInfo(_referenceFiles[i]);
            seen[i] = file.Exists ? (true, file.Length, file.LastWriteTimeUtc) : (false, 0, default);
        }

        return seen;
    }

    private static bool IsReference(string? name) => name is not null && !name.EndsWith(".lock", StringComparison.Ordinal);

    private void Schedule()
    {
        if (!_disposed && Interlocked.Exchange(ref _pending, 1) == 0)
        {
            try
            {
                _timer.Change(Coalesce, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // Disposed concurrently: nobody is listening any more.
            }
        }
    }

    private void Fire()
    {
        // Cleared before the call so that a change made while the callback runs schedules another call.
        Volatile.Write(ref _pending, 0);
        if (_disposed)
        {
            return;
        }

        try
        {
            _onChanged();
        }
#pragma warning disable CA1031 // A subscriber's failure must not take down the watcher (it runs on a timer thread).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            GitIntegration.Log.WatchCallbackFailed(_logger, ex, _branch, _path);
        }
    }
}
