using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Logs;

/// <summary>
/// One service's log file (<c>NAME.log</c> and its rotated <c>NAME.log.1</c> … <c>NAME.log.N</c>), shared by
/// every writer and follower of that service. Writers take <see cref="_lock"/> for a whole chunk, so complete
/// lines of different writers never interleave and rotation happens between lines. Lines that cannot be stored (the
/// disk failing, or over the service's <see cref="LogRateLimit"/>) are counted, and the count is stored as one stamped
/// marker line (<c>gitproc: N lines dropped: REASON</c>) as soon as it can be: the file never holds half a line, and
/// a gap in it is never silent.
/// </summary>
internal sealed class ServiceLogFile
{
    /// <summary>A line longer than this (without its stamp) is stored as several lines of at most this size.</summary>
    internal const int MaxLineBytes = 64 * 1024;

    /// <summary>The length of <c>[yyyy-MM-dd HH:mm:ss] </c>.</summary>
    internal const int StampBytes = 22;

    // Large enough for one maximal stamped line, so a line is always copied into the buffer in one piece.
    private const int BufferBytes = 2 * MaxLineBytes;

    /// <summary>The log directory's mode when GitProc creates it: logs can hold secrets, so owner and group only.</summary>
    internal static readonly UnixFileMode DirectoryMode =
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

    // Where a failed write left part of its buffer that could not be cut off at once: cut before anything else is
    // appended or the file is rotated.
    private long? _cutTo;

    // Lines lost to a failing file and not yet announced, and the OS's words for the last failure.
    private long _failDropped;
    private string _failReason = string.Empty;

    // The rate limit: wanted (set by OpenWriter, read without the lock), in force (under the lock), and the lines left
    // in the current interval.
    private LogRateLimit? _wantedLimit;
    private LogRateLimit? _limit;
    private int _allowance;
    private long _intervalStart;
    private long _limitDropping;
    private long _limitDropped;
    private LogRateLimit? _limitDroppedUnder;

    // Markers in the buffer and the counts they carry: subtracted once they are in the file, kept due if not.
    private int _markersBuffered;
    private long _failAnnounced;
    private long _limitAnnounced;

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

    /// <summary>
    /// What happens to each line before it is stored. A type argument rather than a test per line, so that with no
    /// limit the hot path compiles to the plain copy it was, and a limit costs only the services that have one.
    /// </summary>
    private interface ILineGate
    {
        static abstract bool Admit(ServiceLogFile file);

        static abstract void Stored(ServiceLogFile file);
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

    /// <summary>
    /// Opens a writer. The rate limit belongs to the service, not the writer: the one given last applies to every
    /// writer of the service (they all come from the same unit, and a changed unit opens new writers).
    /// </summary>
    public ServiceLogWriter OpenWriter(LogRateLimit? rateLimit)
    {
        var writer = new ServiceLogWriter(this);
        var wanted = rateLimit is { IsEnabled: true } ? rateLimit : null;
        lock (_writers)
        {
            ObjectDisposedException.ThrowIf(_closed, typeof(ServiceLogs));
            _writers.Add(writer);

            // Replaced only when it differs, so that reopening with the same limit keeps the interval running.
            if (!Equals(_wantedLimit, wanted))
            {
                Volatile.Write(ref _wantedLimit, wanted);
            }
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
            if (Prepare())
            {
                await AppendMarkersAsync().ConfigureAwait(false);
            }

            var position = 0;
            Outcome outcome;
            while ((outcome = _limit is null
                ? Consume<Unlimited>(writer, data.Span, ref position)
                : Consume<RateLimited>(writer, data.Span, ref position)) != Outcome.Done)
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
                    await AnnounceDropsAsync().ConfigureAwait(false);
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

            await AnnounceDropsAsync().ConfigureAwait(false);
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
    private Outcome Consume<TGate>(ServiceLogWriter writer, ReadOnlySpan<byte> data, ref int position)
        where TGate : struct, ILineGate
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
                    if ((outcome = TryAppend<TGate>(rest[..newline], lineEnd: true)) != Outcome.Done)
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
                    if ((outcome = TryAppend<TGate>(rest[..MaxLineBytes], lineEnd: false)) != Outcome.Done)
                    {
                        return outcome;
                    }

                    position += MaxLineBytes;
                }
            }
            else if (newline == 0 || writer.PartialLength == MaxLineBytes)
            {
                if ((outcome = TryAppend<TGate>(writer.Partial, lineEnd: newline == 0)) != Outcome.Done)
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

    /// <summary>Appends one line of the service's output, or drops it when <typeparamref name="TGate"/> says so.</summary>
    private Outcome TryAppend<TGate>(ReadOnlySpan<byte> line, bool lineEnd)
        where TGate : struct, ILineGate
    {
        if (!TGate.Admit(this))
        {
            // Dropped before it costs a copy, a flush or a rotation: a flood over the limit is cheap.
            return Outcome.Done;
        }

        if (lineEnd && !line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        var outcome = TryStore(line);
        if (outcome == Outcome.Done)
        {
            TGate.Stored(this);
        }

        return outcome;
    }

    /// <summary>Copies a stamped line into the buffer unless the buffer needs flushing or the file rotating first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Outcome TryStore(ReadOnlySpan<byte> line)
    {
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
            if (Prepare())
            {
                await AppendMarkersAsync().ConfigureAwait(false);
            }

            Outcome outcome;
            while ((outcome = _limit is null
                ? TryAppend<Unlimited>(writer.Partial, lineEnd: true)
                : TryAppend<RateLimited>(writer.Partial, lineEnd: true)) != Outcome.Done)
            {
                await MakeRoomAsync(outcome).ConfigureAwait(false);
            }

            writer.ClearPartial();
            await FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Refreshes the stamp, makes sure the file is open and moves the rate limit's interval on; called under the lock
    /// before appending. Returns whether markers are due, which the caller then appends before any line.
    /// </summary>
    private bool Prepare()
    {
        // One clock read per chunk, not per line: the lines of a chunk arrived together, and a per-line clock
        // read would cost more than the copying at hundreds of MB/s.
        UpdateStamp(_timeProvider.GetLocalNow().DateTime);
        _buffer ??= new byte[BufferBytes];
        if (_stream is null)
        {
            Open();
        }

        var wanted = Volatile.Read(ref _wantedLimit);
        if (wanted is not null || _limit is not null)
        {
            AdvanceInterval(wanted);
        }

        return _failDropped != 0 || _limitDropped != 0;
    }

    /// <summary>
    /// Starts a new interval when the current one has ended (journald's rule: it starts with the first output after
    /// the previous one, and its length counts from there), or when the limit changed.
    /// </summary>
    private void AdvanceInterval(LogRateLimit? wanted)
    {
        var now = _timeProvider.GetTimestamp();
        if (ReferenceEquals(wanted, _limit) && _timeProvider.GetElapsedTime(_intervalStart, now) < wanted!.Interval)
        {
            return;
        }

        EndInterval();
        _limit = wanted;
        _intervalStart = now;
        _allowance = wanted?.Burst ?? 0;
    }

    /// <summary>Makes the lines dropped in the current interval due for a marker.</summary>
    private void EndInterval()
    {
        if (_limitDropping != 0)
        {
            _limitDropped += _limitDropping;
            _limitDropping = 0;
            _limitDroppedUnder = _limit;
        }
    }

    /// <summary>
    /// Appends the due markers, ahead of the lines that follow them. Nothing while the file cannot be opened: they
    /// would only be dropped, and they stay due.
    /// </summary>
    private async ValueTask AppendMarkersAsync()
    {
        if (_stream is null)
        {
            return;
        }

        Outcome outcome;
        while ((outcome = TryAppendMarkers()) != Outcome.Done)
        {
            await MakeRoomAsync(outcome).ConfigureAwait(false);
        }
    }

    private Outcome TryAppendMarkers()
    {
        Outcome outcome;
        if (_failDropped != 0 && _failAnnounced == 0)
        {
            if ((outcome = TryStoreMarker(_failDropped, _failReason)) != Outcome.Done)
            {
                return outcome;
            }

            _failAnnounced = _failDropped;
        }

        if (_limitDropped != 0 && _limitAnnounced == 0)
        {
            if ((outcome = TryStoreMarker(_limitDropped, _limitDroppedUnder!.DropReason)) != Outcome.Done)
            {
                return outcome;
            }

            _limitAnnounced = _limitDropped;
        }

        return Outcome.Done;
    }

    private Outcome TryStoreMarker(long count, string reason)
    {
        var text = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"gitproc: {count} lines dropped: {reason}"));
        var outcome = TryStore(text);
        if (outcome == Outcome.Done)
        {
            _markersBuffered++;
        }

        return outcome;
    }

    /// <summary>
    /// When the last writer closes (the service stopped) or the store closes: the lines dropped so far are announced
    /// now, if the file can take it, rather than at output that may never come.
    /// </summary>
    private async ValueTask AnnounceDropsAsync()
    {
        EndInterval();
        if (_failDropped == 0 && _limitDropped == 0)
        {
            return;
        }

        if (Prepare())
        {
            await AppendMarkersAsync().ConfigureAwait(false);
        }

        await FlushAsync().ConfigureAwait(false);
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

            CutTornEnd();
            _stream = new FileStream(Path, options);
            _length = _stream.Length;
            Publish();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The chunk still goes through the buffer and is dropped (and counted) at the flush; the next chunk retries.
            _length = 0;
            ReportFailure(e);
        }
    }

    /// <summary>
    /// Cuts off what a failed write left after the last whole line, if cutting it at the time failed too. Throws
    /// while it still cannot, so nothing is appended after half a line.
    /// </summary>
    private void CutTornEnd()
    {
        if (_cutTo is not { } length)
        {
            return;
        }

        try
        {
            using var handle = File.OpenHandle(Path, System.IO.FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            if (RandomAccess.GetLength(handle) > length)
            {
                RandomAccess.SetLength(handle, length);
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Gone (deleted by someone): nothing torn is left to append to.
        }

        _cutTo = null;
    }

    private async ValueTask FlushAsync()
    {
        if (_buffered == 0)
        {
            return;
        }

        var written = false;
        if (_stream is not null)
        {
            var committed = _stream.Position;
            try
            {
                // Written synchronously, on the thread that read the pipe: FileStream's WriteAsync would queue the write
                // to another thread-pool thread, and a daemon killed while it waits there (a busy machine makes that
                // milliseconds) would lose lines it had already taken from the service's pipe. A write to the page
                // cache takes microseconds; a slow disk blocks this pool thread instead of another one.
                _stream.Write(_buffer.AsSpan(0, _buffered));
                written = true;
                Publish();
                if (_failing)
                {
                    _failing = false;
                    Log.WriteRecovered(_logger, _service, Path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A full disk must not stop the service: its output is dropped (counted, and logged once) until
                // writing works again. The write may have stored part of the buffer, ending inside a line: cut back to
                // the last whole line before anything else is appended. Reopening next time re-reads the true length.
                ReportFailure(e);
                CutBack(committed);
                CloseStream();
            }
        }

        if (_markersBuffered != 0 || !written)
        {
            Settle(written);
        }

        _buffered = 0;
        Signal();
    }

    /// <summary>Accounts for a buffer that holds markers or was dropped (the rare paths, kept off the hot one).</summary>
    private void Settle(bool written)
    {
        if (written)
        {
            _failDropped -= _failAnnounced;
            _limitDropped -= _limitAnnounced;
            if (_limitAnnounced != 0)
            {
                Log.RateLimited(_logger, _service, _limitAnnounced, _limitDroppedUnder!.DropReason);
            }
        }
        else
        {
            // Every line in the buffer is whole, so its newlines count its lines; the markers among them stay due.
            _failDropped += _buffer.AsSpan(0, _buffered).Count((byte)'\n') - _markersBuffered;
            _length -= _buffered;
        }

        _failAnnounced = 0;
        _limitAnnounced = 0;
        _markersBuffered = 0;
    }

    private void CutBack(long committed)
    {
        try
        {
            RandomAccess.SetLength(_stream!.SafeFileHandle, committed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Even truncating fails (a file system gone read-only): done before the file is appended to again.
            _cutTo = committed;
        }
    }

    private async ValueTask RotateAsync()
    {
        await FlushAsync().ConfigureAwait(false);
        CloseStream();
        try
        {
            // A torn end is cut first: the rotated file must hold whole lines too. If it cannot be, nothing moves.
            CutTornEnd();
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

        // Lines dropped before the rotation are announced at the top of the new file. It is empty, so they fit;
        // whatever does not stays due for the next chunk.
        if (_stream is not null)
        {
            _ = TryAppendMarkers();
        }

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
        // The marker gives the OS's words ("No space left on device"), not .NET's sentence with the path in it.
        _failReason = exception is IOException && exception.HResult is > 0 and < 4096
            ? Marshal.GetPInvokeErrorMessage(exception.HResult)
            : exception.Message;
        if (!_failing)
        {
            _failing = true;
            Log.WriteFailed(_logger, _service, Path, exception);
        }
    }

    private readonly struct Unlimited : ILineGate
    {
        public static bool Admit(ServiceLogFile file) => true;

        public static void Stored(ServiceLogFile file)
        {
        }
    }

    private readonly struct RateLimited : ILineGate
    {
        public static bool Admit(ServiceLogFile file)
        {
            if (file._allowance != 0)
            {
                return true;
            }

            file._limitDropping++;
            return false;
        }

        public static void Stored(ServiceLogFile file) => file._allowance--;
    }
}
