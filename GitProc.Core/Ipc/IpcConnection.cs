using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace GitProc.Ipc;

/// <summary>
/// One client connection: reads newline-delimited JSON requests through a pipe (never buffering more than
/// <see cref="MaxRequestBytes"/> plus one read), answers each in order with one JSON line written straight into the
/// pipe's pooled buffers, and flushes once per batch of pipelined requests (or before a command that has to wait).
/// </summary>
internal sealed class IpcConnection : IAsyncDisposable
{
    /// <summary>The longest request line accepted: 1 MiB (CONTRACT §7). A longer one gets an error and a closed connection.</summary>
    internal const int MaxRequestBytes = 1024 * 1024;

    private static readonly JsonEncodedText StatusKey = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText DataKey = JsonEncodedText.Encode("data");
    private static readonly JsonEncodedText ErrorKey = JsonEncodedText.Encode("error");
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
    private readonly ILogger _logger;
    private bool _unflushed;

    public IpcConnection(Socket socket, IpcCommandHandler handler, ILogger logger)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        _writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
        _json = new Utf8JsonWriter(_writer, WriterOptions);
        _handler = handler;
        _logger = logger;
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
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _writer.CompleteAsync().ConfigureAwait(false);
        await _json.DisposeAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    private async Task ServeAsync(CancellationToken cancellationToken)
    {
        // Bytes at the start of the unconsumed buffer already searched for a newline, so a long partial line is
        // scanned once, not once per read.
        long scanned = 0;
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            string? follow = null;

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
                    if (r.FollowService is not null)
                    {
                        follow = r.FollowService;
                        break;
                    }
                }
            }

            if (follow is not null)
            {
                // Following owns the rest of the connection; anything the client sent after it is ignored.
                _reader.AdvanceTo(result.Buffer.End);
                await FollowAsync(follow, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (buffer.Length > MaxRequestBytes)
            {
                await RejectOversizedAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (_unflushed)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            if (result.IsCompleted)
            {
                return;
            }
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
            var reader = new Utf8JsonReader(line);
            request = JsonSerializer.Deserialize(ref reader, IpcJsonContext.Default.IpcRequest);
            if (reader.Read())
            {
                return new(IpcReply.Failure("invalid JSON: unexpected data after the request object; send one request per line"));
            }
        }
        catch (JsonException ex)
        {
            return new(IpcReply.Failure($"invalid JSON: {ex.Message}"));
        }

        if (request is null)
        {
            return new(IpcReply.Failure("invalid JSON: a request must be a JSON object"));
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
            return IpcReply.Failure(ex.Message);
        }
        catch (Exception ex)
        {
            Log.UnexpectedCommandError(_logger, request.Command ?? "", request.Service, ex);
            return IpcReply.Failure(ex.Message);
        }
    }

    private async Task FollowAsync(string service, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);

        using var follow = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watcher = WatchForCloseAsync(follow);
        try
        {
            await foreach (var text in _handler.FollowAsync(service, follow.Token).ConfigureAwait(false))
            {
                WriteReply(IpcReply.Success(new IpcLogsResult { Logs = text }, IpcJsonContext.Default.IpcLogsResult));
                var flushed = await _writer.FlushAsync(follow.Token).ConfigureAwait(false);
                _unflushed = false;
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (follow.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The client closed the connection: the normal end of following.
        }
        catch (GitProcException ex)
        {
            WriteReply(IpcReply.Failure(ex.Message));
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await follow.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
        }
    }

    /// <summary>Reads (and drops) whatever the client sends while following, to notice when it closes.</summary>
    private async Task WatchForCloseAsync(CancellationTokenSource follow)
    {
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(follow.Token).ConfigureAwait(false);
                _reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Either following ended first, or the connection broke: both end the follow.
        }
        finally
        {
            await follow.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task RejectOversizedAsync(CancellationToken cancellationToken)
    {
        Log.OversizedRequest(_logger, MaxRequestBytes);
        WriteReply(IpcReply.Failure($"request line too long: over {MaxRequestBytes} bytes (1 MiB); closing the connection"));
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void WriteReply(in IpcReply reply)
    {
        _json.Reset(_writer);
        _json.WriteStartObject();
        if (reply.TypeInfo is null)
        {
            _json.WriteString(StatusKey, ErrorValue);
            _json.WriteString(ErrorKey, reply.Error);
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
