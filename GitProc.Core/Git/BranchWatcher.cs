using Microsoft.Extensions.Logging;

namespace GitProc.Git;

/// <summary>
/// Watches a repository's references with inotify (through <see cref="FileSystemWatcher"/>) and calls back once
/// per burst of changes. Git updates a reference by writing <c>NAME.lock</c> and renaming it over <c>NAME</c>, so
/// lock files are ignored and the rename is what counts.
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
    private int _pending;
    private volatile bool _disposed;

    public BranchWatcher(string gitDirectory, string branch, Action onChanged, TimeProvider timeProvider, ILogger logger)
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
    }

    public void Dispose()
    {
        _disposed = true;
        _gitDirectory.Dispose();
        _heads.Dispose();
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
