using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Encodings.Web;
using System.Text.Json;
using GitProc.Health;
using Microsoft.Extensions.Logging;

namespace GitProc.Ipc;

/// <summary>
/// One client connection: reads newline-delimited JSON requests through a pipe (never buffering more than
/// <see cref="MaxRequestBytes"/> plus one read), answers each in order with one JSON line written straight into the
/// pipe's pooled buffers, and flushes once per batch of pipelined requests (or before a command that has to wait).
/// </summary>
/// <remarks>
/// The server may close a connection as idle (<see cref="TryCloseIdle"/>) while it waits for a request or for the
/// client to read its replies, never while a request is in progress or a reply streams. The connection publishes when
/// it became idle in one field per kind of wait and takes it back with a compare-and-swap before serving: a batch of
/// requests costs one timestamp, one write and one compare-and-swap, and the server and the connection never both win.
/// </remarks>
internal sealed class IpcConnection : IAsyncDisposable
{
    /// <summary>The longest request line accepted: 1 MiB. A longer one gets an error and a closed connection.</summary>
    internal const int MaxRequestBytes = 1024 * 1024;

    /// <summary>The value of an idle field while the connection is not idle that way.</summary>
    private const long NotIdle = 0;

    /// <summary>
    /// How long a stream that gave up on its client (a subscriber that fell behind) keeps the connection open for the
    /// client to read what was sent and why it ends.
    /// </summary>
    internal static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long the closing error line may take to leave when the client does not read.</summary>
    private static readonly TimeSpan GoodbyeTimeout = TimeSpan.FromSeconds(1);

    private static readonly JsonEncodedText StatusKey = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText DataKey = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText ErrorKey = JsonEncodedText.Encode("error");
    private static readonly JsonEncodedText CodeKey = JsonEncodedText.Encode("code");
    private static readonly JsonEncodedText SuccessValue = JsonEncodedText.Encode(IpcResponse.Success);
    private static readonly JsonEncodedText ErrorValue = JsonEncodedText.Encode(IpcResponse.Failure);

    // The output is read by programs, not embedded in HTML: keep non-ASCII log text and paths readable.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly Utf8JsonWriter _json;
    private readonly IpcCommandHandler _handler;
    private readonly IpcOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private IpcDuplicateKeys? _duplicateKeys;
    private bool _unflushed;

    /// <summary>
    /// When the connection started waiting for a request (a <see cref="TimeProvider"/> timestamp); <see cref="NotIdle"/>
    /// while it serves, sends or streams; a negative <see cref="IpcCloseReason"/> once the server closed it.
    /// </summary>
    private long _waitingSince;

    /// <summary>Likewise, when a flush of replies started waiting for the client to read them.</summary>
    private long _sendingSince;

    public IpcConnection(Socket socket, IpcCommandHandler handler, IpcOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        _writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
        _json = new Utf8JsonWriter(_writer, WriterOptions);
        _handler = handler;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;

        // Idle from the start: a client that connects and sends nothing is timed out (or evicted) like any other.
        _waitingSince = Now();
    }

    /// <summary>
    /// Since when the connection has been idle (waiting for a request, or for the client to read its replies), as a
    /// <see cref="TimeProvider"/> timestamp; 0 if it is not idle (serving a request, streaming, or closing).
    /// </summary>
    public long IdleSince
    {
        get
        {
            var since = Volatile.Read(ref _waitingSince);
            return since > NotIdle ? since : Math.Max(NotIdle, Volatile.Read(ref _sendingSince));
        }
    }

    /// <summary>
    /// Closes the connection if it is still idle since <paramref name="since"/> (as read from <see cref="IdleSince"/>):
    /// a connection waiting for a request gets one error line saying why, one whose client does not read is cut off.
    /// </summary>
    /// <returns><see langword="false"/> if the connection became busy (or was closed) meanwhile.</returns>
    public bool TryCloseIdle(IpcCloseReason reason, long since)
    {
        if (since <= NotIdle)
        {
            return false;
        }

        if (Interlocked.CompareExchange(ref _waitingSince, (long)reason, since) == since)
        {
            // The serving loop wakes with a cancelled read, sees the reason and says goodbye itself: only it writes.
            _reader.CancelPendingRead();
            return true;
        }

        if (Interlocked.CompareExchange(ref _sendingSince, (long)reason, since) == since)
        {
            // Its send buffer is full, so no error line can reach it: closing the socket fails the pending flush.
            if (reason == IpcCloseReason.IdleTimeout)
            {
                Log.ConnectionClosedAsIdle(_logger, "its client left the replies unread", HealthProbe.FormatDuration(_options.IdleTimeout));
            }

            _socket.Dispose();
            return true;
        }

        return false;
    }

    /// <summary>Serves the connection until the client closes it, it misbehaves, or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ServeAsync(cancellationToken).ConfigureAwait(false);
            Log.ConnectionEnded(_logger, "closed");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.ConnectionEnded(_logger, "server stopping");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Log.ConnectionEnded(_logger, ex.Message);
        }
        catch (Exception ex)
        {
            Log.ConnectionFailed(_logger, ex);
        }
        finally
        {
            await DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The socket goes first: completing the writer flushes what is left, which must fail fast rather than wait
        // for a client that does not read.
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _reader.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Replies the client did not wait for.
        }

        await _json.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ServeAsync(CancellationToken cancellationToken)
    {
        // Bytes at the start of the unconsumed buffer already searched for a newline, so a long partial line is
        // scanned once, not once per read.
        long scanned = 0;
        var waitingSince = Volatile.Read(ref _waitingSince);
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var state = Interlocked.CompareExchange(ref _waitingSince, NotIdle, waitingSince);
            if (state != waitingSince)
            {
                await SayGoodbyeAsync((IpcCloseReason)state, cancellationToken).ConfigureAwait(false);
                return;
            }

            var buffer = result.Buffer;
            IpcReply? stream = null;

            while (TryReadLine(ref buffer, ref scanned, out var line))
            {
                if (line.Length > MaxRequestBytes)
                {
                    await RejectOversizedAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }

                var reply = await ProcessLineAsync(line, cancellationToken).ConfigureAwait(false);
                if (reply is { } r)
                {
                    WriteReply(r);
                    if (r.AfterSent is { } afterSent)
                    {
                        await FlushAsync(cancellationToken).ConfigureAwait(false);
                        afterSent();
                    }

                    if (r.Stream is not null)
                    {
                        stream = r;
                        break;
                    }
                }
            }

            if (stream is { } streaming)
            {
                // Streaming owns the rest of the connection; anything the client sent after it is ignored.
                _reader.AdvanceTo(result.Buffer.End);
                await StreamAsync(streaming, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (buffer.Length > MaxRequestBytes)
            {
                await RejectOversizedAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (_unflushed && !await FlushRepliesAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (result.IsCompleted)
            {
                return;
            }

            waitingSince = Now();
            Volatile.Write(ref _waitingSince, waitingSince);
        }
    }

    /// <summary>
    /// Flushes a batch's replies. A flush that has to wait for the client to read makes the connection idle meanwhile;
    /// <see langword="false"/> if the server closed it for that.
    /// </summary>
    private async ValueTask<bool> FlushRepliesAsync(CancellationToken cancellationToken)
    {
        _unflushed = false;
        var flush = _writer.FlushAsync(cancellationToken);
        if (flush.IsCompleted)
        {
            flush.GetAwaiter().GetResult();
            return true;
        }

        var since = Now();
        Volatile.Write(ref _sendingSince, since);
        await flush.ConfigureAwait(false);
        return Interlocked.CompareExchange(ref _sendingSince, NotIdle, since) == since;
    }

    /// <summary>Tells the client why the server closes its idle connection, waiting briefly for the line to leave.</summary>
    private async Task SayGoodbyeAsync(IpcCloseReason reason, CancellationToken cancellationToken)
    {
        string message;
        if (reason == IpcCloseReason.ConnectionLimit)
        {
            message = string.Create(
                CultureInfo.InvariantCulture,
                $"closed: the daemon is at its connection limit ({_options.MaxConnections}) and this connection was the longest idle; reconnect to send more requests");
        }
        else
        {
            var timeout = HealthProbe.FormatDuration(_options.IdleTimeout);
            Log.ConnectionClosedAsIdle(_logger, "it received no request", timeout);
            message = $"idle timeout: no request for {timeout} (Ipc:IdleTimeout), so the daemon closed this connection; reconnect to send more requests";
        }

        WriteReply(IpcReply.Failure(message, GitProcErrorCodes.ConnectionClosed));

        // Real time on purpose: this only bounds a write to a client that does not read; no test waits for it.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(GoodbyeTimeout);
        try
        {
            await FlushAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The client does not read: close without the line.
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, ref long scanned, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.Slice(scanned).PositionOf((byte)'\n');
        if (newline is null)
        {
            scanned = buffer.Length;
            line = default;
            return false;
        }

        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        scanned = 0;
        return true;
    }

    /// <summary>Parses and executes one line; <see langword="null"/> for a blank line, which needs no answer.</summary>
    private ValueTask<IpcReply?> ProcessLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        if (IsBlank(line))
        {
            return new((IpcReply?)null);
        }

        IpcRequest? request;
        try
        {
            var reader = IpcDuplicateKeys.CreateReader(line);
            request = JsonSerializer.Deserialize(ref reader, IpcJsonContext.Default.IpcRequest);
            if (reader.Read())
            {
                return new(IpcReply.Failure("invalid JSON: unexpected data after the request object; send one request per line", GitProcErrorCodes.InvalidRequest));
            }
        }
        catch (JsonException ex)
        {
            return new(IpcReply.Failure($"invalid JSON: {ex.Message}", GitProcErrorCodes.InvalidRequest));
        }

        if (request is null)
        {
            return new(IpcReply.Failure("invalid JSON: a request must be a JSON object", GitProcErrorCodes.InvalidRequest));
        }

        // Checked on the parsed line, so it sees only well-formed JSON; scanning costs far less than serving.
        _duplicateKeys ??= new IpcDuplicateKeys();
        if (_duplicateKeys.Find(line) is { } duplicate)
        {
            return new(IpcReply.Failure("duplicate key: " + duplicate, GitProcErrorCodes.InvalidRequest));
        }

        return ExecuteAsync(request, cancellationToken);
    }

    private async ValueTask<IpcReply?> ExecuteAsync(IpcRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var pending = _handler.HandleAsync(request, cancellationToken);
            if (!pending.IsCompleted && _unflushed)
            {
                // Don't hold answers to earlier pipelined requests while this one waits (a start can take seconds).
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            return await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (GitProcException ex)
        {
            return IpcReply.Failure(ex.Message, GitProcErrorCodes.Of(ex));
        }
        catch (Exception ex)
        {
            Log.UnexpectedCommandError(_logger, request.Command ?? "", request.Service, ex);
            return IpcReply.Failure(ex.Message, GitProcErrorCodes.Internal);
        }
    }

    /// <summary>
    /// Sends a streaming command's further replies (a <c>logs</c> follow, events) until the stream ends or the client
    /// closes the connection. A streaming connection is never idle: the server neither times it out nor evicts it.
    /// </summary>
    private async Task StreamAsync(IpcReply first, CancellationToken cancellationToken)
    {
        using var resource = first.StreamResource;
        await FlushAsync(cancellationToken).ConfigureAwait(false);

        using var streaming = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var abandoned = first.StreamAbandoned.Register(() => _ = CloseAfterDrainAsync(streaming.Token));
        var watcher = WatchForCloseAsync(streaming);
        try
        {
            await foreach (var reply in first.Stream!(streaming.Token).ConfigureAwait(false))
            {
                WriteReply(reply);
                var flushed = await _writer.FlushAsync(streaming.Token).ConfigureAwait(false);
                _unflushed = false;
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (streaming.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The client closed the connection: the normal end of a stream.
        }
        catch (GitProcException ex)
        {
            WriteReply(IpcReply.Failure(ex.Message, GitProcErrorCodes.Of(ex)));
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await streaming.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Closes the socket after <see cref="DrainTimeout"/> unless the stream ended first: a client that stopped reading
    /// cannot hold a send that never completes (closing fails it).
    /// </summary>
    private async Task CloseAfterDrainAsync(CancellationToken streaming)
    {
        try
        {
            await Task.Delay(DrainTimeout, _timeProvider, streaming).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        _socket.Dispose();
    }

    /// <summary>Reads (and drops) whatever the client sends while a reply streams, to notice when it closes.</summary>
    private async Task WatchForCloseAsync(CancellationTokenSource streaming)
    {
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(streaming.Token).ConfigureAwait(false);
                _reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Either the stream ended first, or the connection broke: both end the stream.
        }
        finally
        {
            await streaming.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task RejectOversizedAsync(CancellationToken cancellationToken)
    {
        Log.OversizedRequest(_logger, MaxRequestBytes);
        WriteReply(IpcReply.Failure($"request line too long: over {MaxRequestBytes} bytes (1 MiB); closing the connection", GitProcErrorCodes.InvalidRequest));
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void WriteReply(in IpcReply reply)
    {
        if (reply.Line is { } raw)
        {
            var span = _writer.GetSpan(raw.Length + 1);
            raw.CopyTo(span);
            span[raw.Length] = (byte)'\n';
            _writer.Advance(raw.Length + 1);
            _unflushed = true;
            return;
        }

        _json.Reset(_writer);
        _json.WriteStartObject();
        if (reply.TypeInfo is null)
        {
            _json.WriteString(StatusKey, ErrorValue);
            _json.WriteString(ErrorKey, reply.Error);
            _json.WriteString(CodeKey, reply.Code ?? GitProcErrorCodes.Failed);
        }
        else
        {
            _json.WriteString(StatusKey, SuccessValue);
            _json.WritePropertyName(DataKey);
            JsonSerializer.Serialize(_json, reply.Data, reply.TypeInfo);
        }

        _json.WriteEndObject();
        _json.Flush();
        _writer.GetSpan(1)[0] = (byte)'\n';
        _writer.Advance(1);
        _unflushed = true;
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        _unflushed = false;
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A nonzero timestamp: zero means "not idle".</summary>
    private long Now() => Math.Max(1, _timeProvider.GetTimestamp());

    private static bool IsBlank(in ReadOnlySequence<byte> line)
    {
        if (line.Length > 64)
        {
            return false;
        }

        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
