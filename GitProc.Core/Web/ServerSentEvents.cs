using System.Buffers;
using System.Text;
using GitProc.Http;

namespace GitProc.Web;

/// <summary>
/// Server-sent events (<c>text/event-stream</c>) over an <see cref="HttpStream"/>: one <c>data:</c> field per item, a
/// comment as a heartbeat while nothing happens (so a client, or a proxy, sees a live connection and a gone client
/// is noticed by the failing write), items that are ready at once sent together in one write.
/// </summary>
internal static class ServerSentEvents
{
    /// <summary>The <c>Content-Type</c>.</summary>
    public const string ContentType = "text/event-stream; charset=utf-8";

    /// <summary>How long a browser waits before it reconnects a stream that ended, in milliseconds.</summary>
    internal const int RetryMilliseconds = 2000;

    private const int FlushBytes = 64 * 1024;

    /// <summary>The answer that streams what <paramref name="write"/> writes.</summary>
    public static HttpResponse Response(Func<HttpStream, CancellationToken, Task> write) => new()
    {
        Status = "200 OK",
        ContentType = ContentType,
        Headers = "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Accel-Buffering: no\r\n",
        Stream = write,
    };

    /// <summary>
    /// Sends each item of <paramref name="items"/> as <paramref name="format"/> writes it, until the items end or
    /// <paramref name="cancellationToken"/> is cancelled; a heartbeat comment goes out after each
    /// <paramref name="heartbeat"/> without items. The items are only pulled as fast as the client takes them: what
    /// produces them (a log file, a bounded event queue) holds the backlog, not this.
    /// </summary>
    public static async Task PumpAsync<T>(
        HttpStream stream, IAsyncEnumerable<T> items, Action<T, IBufferWriter<byte>> format, TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        buffer.Write(Encoding.ASCII.GetBytes($": gitproc\nretry: {RetryMilliseconds}\n\n"));
        await FlushAsync(stream, buffer, cancellationToken).ConfigureAwait(false);

        // Our own token, cancelled before the enumerator is disposed: an async iterator cannot be disposed while a
        // MoveNextAsync is pending, and a failed write leaves one pending.
        using var pumping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var enumerator = items.GetAsyncEnumerator(pumping.Token);
        Task<bool>? pending = null;
        try
        {
            while (true)
            {
                var next = enumerator.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    // Nothing more at once: send what is gathered, then wait, saying we are alive meanwhile.
                    await FlushAsync(stream, buffer, cancellationToken).ConfigureAwait(false);
                    pending = next.AsTask();
                    while (true)
                    {
                        try
                        {
                            await pending.WaitAsync(heartbeat, cancellationToken).ConfigureAwait(false);
                            break;
                        }
                        catch (TimeoutException)
                        {
                            await stream.WriteAsync(":\n\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                        }
                    }

                    next = new ValueTask<bool>(pending);
                    pending = null;
                }

                if (!await next.ConfigureAwait(false))
                {
                    break;
                }

                format(enumerator.Current, buffer);
                if (buffer.WrittenCount >= FlushBytes)
                {
                    await FlushAsync(stream, buffer, cancellationToken).ConfigureAwait(false);
                }
            }

            await FlushAsync(stream, buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await pumping.CancelAsync().ConfigureAwait(false);
            if (pending is not null)
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // What the cancellation above is for.
                }
            }

            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes <paramref name="text"/> as one event's <c>data:</c> field. A carriage return would end the field early
    /// (and let a log line write fields of its own), so each becomes a space; text never holds a line feed here.
    /// </summary>
    public static void WriteData(IBufferWriter<byte> buffer, string text, string? eventName = null, long? id = null)
    {
        if (eventName is not null)
        {
            Write(buffer, "event: " + eventName + "\n");
        }

        if (id is { } number)
        {
            Write(buffer, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"id: {number}\n"));
        }

        buffer.Write("data: "u8);
        Write(buffer, text.Contains('\r', StringComparison.Ordinal) || text.Contains('\n', StringComparison.Ordinal)
            ? text.Replace('\r', ' ').Replace('\n', ' ')
            : text);
        buffer.Write("\n\n"u8);
    }

    /// <summary>Writes an event whose data is UTF-8 JSON (which has no raw line breaks).</summary>
    public static void WriteJson(IBufferWriter<byte> buffer, ReadOnlySpan<byte> json, long id)
    {
        Write(buffer, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"id: {id}\ndata: "));
        buffer.Write(json);
        buffer.Write("\n\n"u8);
    }

    private static void Write(IBufferWriter<byte> buffer, string text)
    {
        var span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        buffer.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private static async ValueTask FlushAsync(HttpStream stream, ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.WrittenCount > 0)
        {
            await stream.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            buffer.ResetWrittenCount();
        }
    }
}
