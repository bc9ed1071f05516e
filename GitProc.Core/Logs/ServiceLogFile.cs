using System.Runtime.CompilerServices;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Logs;

/// <summary>
/// One service's log file (<c>NAME.log</c> and its rotated <c>NAME.log.1</c> … <c>NAME.log.N</c>), shared by
/// every writer and follower of that service. Writers take <see cref="_lock"/> for a whole chunk, so complete
/// lines of different writers never interleave and rotation happens between lines.
/// </summary>
internal sealed class ServiceLogFile
{
    /// <summary>A line longer than this (without its stamp) is stored as several lines of at most this size.</summary>
    internal const int MaxLineBytes = 64 * 1024;

    /// <summary>The length of <c>[yyyy-MM-dd HH:mm:ss] </c>.</summary>
    internal const int StampBytes = 22;

    // Large enough for one maximal stamped line, so a line is always copied into the buffer in one piece.
    private const int BufferBytes = 2 * MaxLineBytes;

    private static readonly UnixFileMode DirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    private static readonly UnixFileMode CreateMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

    private readonly string _service;
    private readonly string _directory;
    private readonly long _maxFileBytes;
    private readonly int _maxFiles;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly HashSet<ServiceLogWriter> _writers = [];
    private readonly byte[] _stamp = new byte[StampBytes];

    private byte[]? _buffer;
    private int _buffered;
    private FileStream? _stream;
    private long _length;
    private long _stampSecond = long.MinValue;
    private int _generation;
    private bool _failing;
    private bool _closed;
    private FollowPoint? _committed;
    private TaskCompletionSource _appended = NewSignal();

    public ServiceLogFile(string service, string directory, LogOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _service = service;
        _directory = directory;
        Path = System.IO.Path.Combine(directory, service + ".log");
        _maxFileBytes = options.MaxFileBytes;
        _maxFiles = Math.Max(0, options.MaxFiles);
        _timeProvider = timeProvider;
        _logger = logger;
    }

    private enum Outcome
    {
        Done,
        NeedFlush,
        NeedRotate,
    }

    /// <summary>The service name.</summary>
    public string Service => _service;

    /// <summary>The current file, <c>LogDirectory/NAME.log</c>.</summary>
    public string Path { get; }

    /// <summary>Bumped (after the old file is complete) each time the file is rotated.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>Completes at the next flush, rotation or close; followers wait on it instead of polling.</summary>
    public Task Appended => Volatile.Read(ref _appended).Task;

    /// <summary>The store was disposed: nothing more will be written.</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>The end of the last complete write, or <see langword="null"/> if this process never opened the file.</summary>
    public FollowPoint? Committed => Volatile.Read(ref _committed);

    public string RotatedPath(int index) => Path + "." + index.ToString(CultureInfo.InvariantCulture);

    public ServiceLogWriter OpenWriter()
    {
        var writer = new ServiceLogWriter(this);
        lock (_writers)
        {
            ObjectDisposedException.ThrowIf(_closed, typeof(ServiceLogs));
            _writers.Add(writer);
        }

        return writer;
    }

    // Pooled: a busy service calls this thousands of times a second and it usually awaits the file write.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ServiceLogWriter writer, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(writer.IsClosed || _closed, writer);

            // From here the chunk is written whole, whatever the token says: half a chunk would break a line.
            Prepare();
            var position = 0;
            Outcome outcome;
            while ((outcome = Consume(writer, data.Span, ref position)) != Outcome.Done)
            {
                await MakeRoomAsync(outcome).ConfigureAwait(false);
            }

            // Flushing to the OS at the end of every call lets tail and follow see lines at once, and makes the
            // caller wait for the page cache: a producer faster than the disk is slowed, never buffered.
            await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask CloseWriterAsync(ServiceLogWriter writer)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!writer.IsClosed)
            {
                await WriteLastLineAsync(writer).ConfigureAwait(false);
                bool last;
                lock (_writers)
                {
                    _writers.Remove(writer);
                    last = _writers.Count == 0;
                }

                if (last)
                {
                    // A stopped service holds no file descriptor; the next writer reopens lazily.
                    CloseStream();
                }
            }
        }
        finally
        {
            _lock.Release();
        }

        writer.ReturnBuffer();
    }

    /// <summary>Takes <paramref name="writer"/>'s partial line without writing it, and closes the writer.</summary>
    public async ValueTask<byte[]> DetachPartialAsync(ServiceLogWriter writer)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            var partial = writer.Partial.ToArray();
            writer.ClearPartial();
            writer.IsClosed = true;
            return partial;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Writes every open writer's partial line and closes the file for good.</summary>
    public async ValueTask CloseAsync()
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            ServiceLogWriter[] writers;
            lock (_writers)
            {
                _closed = true;
                writers = [.. _writers];
                _writers.Clear();
            }

            foreach (var writer in writers)
            {
                await WriteLastLineAsync(writer).ConfigureAwait(false);
            }

            CloseStream();
        }
        finally
        {
            _lock.Release();
        }

        Signal();
    }

    /// <summary>
    /// Opens the file of generation <paramref name="wanted"/> for reading: after k rotations it is
    /// <c>NAME.log.k</c>. Done under the lock, so no rotation can move the file between choosing and opening it.
    /// When that file is gone (more than <c>MaxFiles</c> rotations ago) the oldest one kept is opened instead,
    /// and its generation returned, so the caller can tell that it skipped some.
    /// </summary>
    public async ValueTask<(int Generation, SafeFileHandle? Handle)> OpenGenerationAsync(int wanted, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var back = Math.Max(0, _generation - wanted);
            if (back > _maxFiles)
            {
                back = _maxFiles;
            }

            for (; back >= 0; back--)
            {
                var handle = TryOpenRead(back == 0 ? Path : RotatedPath(back));
                if (handle is not null)
                {
                    return (_generation - back, handle);
                }
            }

            return (_generation, null);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Opens the current file and the rotated ones, newest first, under the lock so that no rotation between two
    /// opens can make a reader see one file twice or skip one.
    /// </summary>
    public async ValueTask<List<SafeFileHandle>> OpenAllAsync(CancellationToken cancellationToken)
    {
        var handles = new List<SafeFileHandle>();
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var index = 0; index <= _maxFiles; index++)
            {
                var handle = TryOpenRead(index == 0 ? Path : RotatedPath(index));
                if (handle is null)
                {
                    // The current file may be missing right after MaxFiles=0 truncation; rotated ones never have gaps.
                    if (index == 0)
                    {
                        continue;
                    }

                    break;
                }

                handles.Add(handle);
            }
        }
        finally
        {
            _lock.Release();
        }

        return handles;
    }

    private static SafeFileHandle? TryOpenRead(string path)
    {
        try
        {
            return File.OpenHandle(path, System.IO.FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Splits as much of <paramref name="data"/> as fits into stamped lines in the buffer. Stops when the buffer
    /// needs flushing or the file needs rotating, so the caller can do that (asynchronously) and call again.
    /// The cuts depend only on the bytes, never on how they were chunked: a line is cut into pieces of exactly
    /// <see cref="MaxLineBytes"/>, and a piece of that size followed by '\n' is one whole line.
    /// </summary>
    private Outcome Consume(ServiceLogWriter writer, ReadOnlySpan<byte> data, ref int position)
    {
        while (position < data.Length)
        {
            var rest = data[position..];
            var newline = rest.IndexOf((byte)'\n');
            Outcome outcome;
            if (writer.PartialLength == 0)
            {
                if (newline >= 0 && newline <= MaxLineBytes)
                {
                    // The hot path: a whole line straight from the caller's chunk into the file buffer.
                    if ((outcome = TryAppend(rest[..newline], lineEnd: true)) != Outcome.Done)
                    {
                        return outcome;
                    }

                    position += newline + 1;
                }
                else if (newline < 0 && rest.Length <= MaxLineBytes)
                {
                    writer.Keep(rest);
                    position = data.Length;
                }
                else
                {
                    if ((outcome = TryAppend(rest[..MaxLineBytes], lineEnd: false)) != Outcome.Done)
                    {
                        return outcome;
                    }

                    position += MaxLineBytes;
                }
            }
            else if (newline == 0 || writer.PartialLength == MaxLineBytes)
            {
                if ((outcome = TryAppend(writer.Partial, lineEnd: newline == 0)) != Outcome.Done)
                {
                    return outcome;
                }

                writer.ClearPartial();
                if (newline == 0)
                {
                    position++;
                }
            }
            else
            {
                var take = Math.Min(newline < 0 ? rest.Length : newline, MaxLineBytes - writer.PartialLength);
                writer.Keep(rest[..take]);
                position += take;
            }
        }

        return Outcome.Done;
    }

    private Outcome TryAppend(ReadOnlySpan<byte> line, bool lineEnd)
    {
        if (lineEnd && !line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        var size = StampBytes + line.Length + 1;

        // A line alone bigger than the limit still goes into an empty file rather than rotating forever.
        if (_length > 0 && _length + size > _maxFileBytes)
        {
            return Outcome.NeedRotate;
        }

        if (BufferBytes - _buffered < size)
        {
            return Outcome.NeedFlush;
        }

        var target = _buffer.AsSpan(_buffered, size);
        _stamp.CopyTo(target);
        line.CopyTo(target[StampBytes..]);
        target[^1] = (byte)'\n';
        _buffered += size;
        _length += size;
        return Outcome.Done;
    }

    private async ValueTask MakeRoomAsync(Outcome outcome)
    {
        if (outcome == Outcome.NeedFlush)
        {
            await FlushAsync().ConfigureAwait(false);
        }
        else
        {
            await RotateAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask WriteLastLineAsync(ServiceLogWriter writer)
    {
        writer.IsClosed = true;
        if (writer.PartialLength > 0)
        {
            Prepare();
            Outcome outcome;
            while ((outcome = TryAppend(writer.Partial, lineEnd: true)) != Outcome.Done)
            {
                await MakeRoomAsync(outcome).ConfigureAwait(false);
            }

            writer.ClearPartial();
            await FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Refreshes the stamp and makes sure the file is open; called under the lock before appending.</summary>
    private void Prepare()
    {
        // One clock read per chunk, not per line: the lines of a chunk arrived together, and a per-line clock
        // read would cost more than the copying at hundreds of MB/s.
        UpdateStamp(_timeProvider.GetLocalNow().DateTime);
        _buffer ??= new byte[BufferBytes];
        if (_stream is null)
        {
            Open();
        }
    }

    private void UpdateStamp(DateTime now)
    {
        var second = now.Ticks / TimeSpan.TicksPerSecond;
        if (second == _stampSecond)
        {
            return;
        }

        _stampSecond = second;
        var stamp = _stamp.AsSpan();
        stamp[0] = (byte)'[';
        Digits(stamp.Slice(1, 4), now.Year);
        stamp[5] = (byte)'-';
        Digits(stamp.Slice(6, 2), now.Month);
        stamp[8] = (byte)'-';
        Digits(stamp.Slice(9, 2), now.Day);
        stamp[11] = (byte)' ';
        Digits(stamp.Slice(12, 2), now.Hour);
        stamp[14] = (byte)':';
        Digits(stamp.Slice(15, 2), now.Minute);
        stamp[17] = (byte)':';
        Digits(stamp.Slice(18, 2), now.Second);
        stamp[20] = (byte)']';
        stamp[21] = (byte)' ';

        static void Digits(Span<byte> target, int value)
        {
            for (var i = target.Length - 1; i >= 0; i--)
            {
                target[i] = (byte)('0' + (value % 10));
                value /= 10;
            }
        }
    }

    private void Open()
    {
        try
        {
            var options = new FileStreamOptions
            {
                Mode = System.IO.FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.ReadWrite | FileShare.Delete,

                // Unbuffered: this class keeps its own buffer and flushes it once per chunk.
                BufferSize = 0,
            };
            if (!OperatingSystem.IsWindows())
            {
                // Logs can hold secrets a service prints: owner and group only.
                Directory.CreateDirectory(_directory, DirectoryMode);
                options.UnixCreateMode = CreateMode;
            }
            else
            {
                Directory.CreateDirectory(_directory);
            }

            _stream = new FileStream(Path, options);
            _length = _stream.Length;
            Publish();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The chunk still goes through the buffer and is dropped at the flush; the next chunk retries.
            _length = 0;
            ReportFailure(e);
        }
    }

    private async ValueTask FlushAsync()
    {
        if (_buffered == 0)
        {
            return;
        }

        if (_stream is not null)
        {
            try
            {
                await _stream.WriteAsync(_buffer.AsMemory(0, _buffered), CancellationToken.None).ConfigureAwait(false);
                Publish();
                if (_failing)
                {
                    _failing = false;
                    Log.WriteRecovered(_logger, _service, Path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A full disk must not stop the service: its output is dropped (and said so once) until writing
                // works again. Reopening next time re-reads the true length.
                ReportFailure(e);
                CloseStream();
            }
        }

        _buffered = 0;
        Signal();
    }

    private async ValueTask RotateAsync()
    {
        await FlushAsync().ConfigureAwait(false);
        CloseStream();
        try
        {
            if (_maxFiles == 0)
            {
                File.Delete(Path);
            }
            else
            {
                File.Delete(RotatedPath(_maxFiles));
                for (var index = _maxFiles - 1; index >= 1; index--)
                {
                    var source = RotatedPath(index);
                    if (File.Exists(source))
                    {
                        File.Move(source, RotatedPath(index + 1), overwrite: true);
                    }
                }

                File.Move(Path, RotatedPath(1), overwrite: true);
            }

            // Bumped only after the old file is complete, so a follower that sees the new generation can finish
            // reading its old handle and know nothing more will arrive there.
            Volatile.Write(ref _generation, _generation + 1);
            Log.Rotated(_logger, _service, Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.RotateFailed(_logger, _service, Path, e);
        }

        Open();

        // Even when rotation failed, count from zero again: retrying on every line would only fail again.
        _length = 0;
        Publish();
        Signal();
    }

    private void CloseStream()
    {
        _stream?.Dispose();
        _stream = null;
    }

    private void Publish()
    {
        if (_stream is not null)
        {
            Volatile.Write(ref _committed, new FollowPoint(_generation, _stream.Position));
        }
    }

    private void Signal() => Interlocked.Exchange(ref _appended, NewSignal()).TrySetResult();

    private void ReportFailure(Exception exception)
    {
        if (!_failing)
        {
            _failing = true;
            Log.WriteFailed(_logger, _service, Path, exception);
        }
    }
}
