using GitProc.UnitFiles;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Logs;

/// <summary>
/// The default <see cref="IServiceLogs"/>: one <see cref="ServiceLogFile"/> per service, created on first use and
/// kept for the life of the store so that writers, readers and followers of a service share its lock and its
/// "data appended" signal.
/// </summary>
internal sealed class ServiceLogs : IServiceLogs, IAsyncDisposable, IDisposable
{
    /// <summary>
    /// How long an idle follower waits before looking at the file anyway. Writers of this store wake followers at
    /// once; this only catches a file changed by someone else, so it can be long.
    /// </summary>
    internal static readonly TimeSpan FollowBackstop = TimeSpan.FromSeconds(1);

    private const int FollowBlockBytes = 64 * 1024;

    private readonly ConcurrentDictionary<string, ServiceLogFile> _files = new(StringComparer.Ordinal);
    private readonly string _directory;
    private readonly LogOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ServiceLogs> _logger;
    private int _disposed;

    public ServiceLogs(IOptions<PathOptions> paths, IOptions<LogOptions> options, TimeProvider timeProvider, ILogger<ServiceLogs>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(options);
        _directory = paths.Value.LogDirectory;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger ?? NullLogger<ServiceLogs>.Instance;
    }

    public IServiceLogWriter OpenWriter(string service, LogRateLimit? rateLimit = null) => GetFile(service).OpenWriter(rateLimit);

    public async Task<IReadOnlyList<string>> ReadLastLinesAsync(string service, int count, CancellationToken cancellationToken = default)
    {
        var file = GetFile(service);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return [];
        }

        var handles = await file.OpenAllAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await LogTail.ReadLastLinesAsync(handles, count, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var handle in handles)
            {
                handle.Dispose();
            }
        }
    }

    public IAsyncEnumerable<string> FollowAsync(string service, CancellationToken cancellationToken = default)
    {
        var file = GetFile(service);

        // Captured now, not at the first MoveNextAsync, so that lines written between this call and the start of the
        // enumeration are not lost. Only a write between the caller's tail read and this call can be missed. The
        // point is published after each complete write, so it is a line boundary; reading it needs no lock.
        var start = file.Committed ?? new FollowPoint(file.Generation, LengthOrZero(file.Path));
        return FollowCoreAsync(file, start, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var file in _files.Values)
        {
            await file.CloseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// For containers disposed synchronously: a singleton that is only <see cref="IAsyncDisposable"/> makes
    /// <c>ServiceProvider.Dispose()</c> throw.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Rejects a name that is not a valid unit name, so that no name can make a path outside the
    /// log directory.
    /// </summary>
    internal static void ValidateServiceName(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (!UnitFileParser.IsValidServiceName(service))
        {
            throw new ArgumentException(
                $"'{service}' is not a valid service name: use only letters, digits and ':_.@-', and do not start with '.'.",
                nameof(service));
        }
    }

    private static long LengthOrZero(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0;
        }
    }

    private ServiceLogFile GetFile(string service)
    {
        ValidateServiceName(service);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _files.GetOrAdd(
            service,
            static (name, self) => new ServiceLogFile(name, self._directory, self._options, self._timeProvider, self._logger),
            this);
    }

    /// <summary>
    /// Reads the file from <paramref name="start"/> and waits for the writer's signal at its end. After a rotation it
    /// finishes the old file through the handle it holds (renamed to <c>.1</c>, and complete before the generation
    /// changed), then opens the next generation, which is <c>.k</c> after k more rotations: a slow follower loses
    /// nothing while it stays within <c>MaxFiles</c> rotations of the writer. Only rotations by this store are
    /// followed; a file truncated by someone else is read again from its start.
    /// </summary>
    private async IAsyncEnumerable<string> FollowCoreAsync(
        ServiceLogFile file, FollowPoint start, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (generation, handle) = await file.OpenGenerationAsync(start.Generation, cancellationToken).ConfigureAwait(false);
        long offset = 0;
        if (handle is not null && generation == start.Generation)
        {
            offset = Math.Min(start.Offset, RandomAccess.GetLength(handle));
        }

        var block = new byte[FollowBlockBytes];
        var splitter = new LineSplitter();
        var lines = new List<string>();
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // Read before draining, so that a write landing after our last read still wakes us.
                var appended = file.Appended;
                var current = file.Generation;
                var closed = file.IsClosed;

                if (handle is not null)
                {
                    int read;
                    while ((read = await RandomAccess.ReadAsync(handle, block, offset, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        offset += read;
                        splitter.Split(block.AsSpan(0, read), lines);
                        foreach (var line in lines)
                        {
                            yield return line;
                        }

                        lines.Clear();
                    }
                }

                if (handle is null || current != generation)
                {
                    var wanted = generation;
                    if (handle is not null)
                    {
                        if (splitter.HasPartial)
                        {
                            yield return splitter.TakePartial();
                        }

                        handle.Dispose();
                        wanted++;
                    }

                    (generation, handle) = await file.OpenGenerationAsync(wanted, cancellationToken).ConfigureAwait(false);
                    if (generation > wanted)
                    {
                        Log.FollowerSkipped(_logger, file.Service);
                    }

                    offset = 0;
                    if (handle is not null)
                    {
                        continue;
                    }
                }

                if (closed)
                {
                    yield break;
                }

                await WaitAsync(appended, cancellationToken).ConfigureAwait(false);
                if (handle is not null && RandomAccess.GetLength(handle) < offset)
                {
                    offset = 0;
                }
            }
        }
        finally
        {
            handle?.Dispose();
        }
    }

    private async ValueTask WaitAsync(Task appended, CancellationToken cancellationToken)
    {
        try
        {
            await appended.WaitAsync(FollowBackstop, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The backstop: look at the file again even though no writer of ours said anything.
        }
    }
}
