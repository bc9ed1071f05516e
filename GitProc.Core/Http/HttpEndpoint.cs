using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace GitProc.Http;

/// <summary>
/// A minimal HTTP/1.1 server over a socket, shared by the metrics endpoint and the status page: <c>GET</c> and
/// <c>HEAD</c> only, one request per connection, every connection closed after its answer. Enough for Prometheus,
/// curl and browsers, and small in a NativeAOT binary (no <c>HttpListener</c>, no Kestrel). A slow or silent client
/// holds only its own connection, for at most <see cref="RequestTimeout"/> before its request is read; past the
/// connection limit, new ones get 503. A streaming answer (server-sent events) lasts until the client goes away, the
/// stream ends, a write to the client stalls for <see cref="HttpStream.SendTimeout"/>, or the endpoint stops.
/// </summary>
internal sealed class HttpEndpoint : IAsyncDisposable
{
    private const int MaxRequestBytes = 8192;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly Func<HttpRequest, CancellationToken, Task<HttpResponse>> _handler;
    private readonly string _what;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots;
    private readonly int _maxConnections;
    private Task _accepting = Task.CompletedTask;

    private HttpEndpoint(Socket socket, Func<HttpRequest, CancellationToken, Task<HttpResponse>> handler, int maxConnections, string what, ILogger logger)
    {
        _socket = socket;
        _handler = handler;
        _maxConnections = maxConnections;
        _slots = new SemaphoreSlim(maxConnections, maxConnections);
        _what = what;
        _logger = logger;
    }

    /// <summary>The address it listens on (with the port the system chose, for port 0).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Connections being served now (streams included); refused ones are not counted.</summary>
    public int OpenConnections => _maxConnections - _slots.CurrentCount;

    /// <summary>Binds and starts accepting.</summary>
    /// <param name="endPoint">Where to listen.</param>
    /// <param name="handler">Answers a <c>GET</c> or <c>HEAD</c> request (other methods get 405 without it).</param>
    /// <param name="maxConnections">Connections served at once; more get 503.</param>
    /// <param name="what">What is served, for the log (<c>metrics</c>, <c>the status page</c>).</param>
    /// <param name="logger">Where failures go.</param>
    /// <exception cref="SocketException">The address cannot be bound (in use, not this machine's, no permission).</exception>
    public static HttpEndpoint Start(
        IPEndPoint endPoint, Func<HttpRequest, CancellationToken, Task<HttpResponse>> handler, int maxConnections, string what, ILogger logger)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            // No ReuseAddress: on Linux .NET turns it into SO_REUSEPORT too, which would let a second daemon listen on the
            // same port. Without it the port still binds again at once after a stop (a test says so).
            socket.Bind(endPoint);
            socket.Listen(16);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var endpoint = new HttpEndpoint(socket, handler, maxConnections, what, logger);
        endpoint._accepting = endpoint.AcceptAsync();
        return endpoint;
    }

    private async Task AcceptAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // Out of descriptors, say: the daemon keeps going and so does the endpoint, a moment later.
                Log.AcceptFailed(_logger, _what, ex.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (!_slots.Wait(0))
            {
                _ = RefuseAsync(client);
                continue;
            }

            _ = ServeAsync(client, token);
        }
    }

    private static async Task RefuseAsync(Socket client)
    {
        using (client)
        {
            try
            {
                await SendAsync(client, HttpResponse.Text("503 Service Unavailable", "too many connections at once\n"), head: false, CancellationToken.None)
                    .ConfigureAwait(false);

                // Closing with the request still unread would reset the connection, and the client would see a reset
                // instead of the 503: read what it sent (a little, briefly) after saying we are done.
                client.Shutdown(SocketShutdown.Send);
                using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                var buffer = new byte[MaxRequestBytes];
                while (await client.ReceiveAsync(buffer, SocketFlags.None, drain.Token).ConfigureAwait(false) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                // Gone already, or still talking: closed either way.
            }
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stopping)
    {
        string? path = null;
        try
        {
            using (client)
            {
                HttpRequest? request;
                HttpResponse response;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping))
                {
                    timeout.CancelAfter(RequestTimeout);
                    request = await ReadRequestAsync(client, timeout.Token).ConfigureAwait(false);
                    path = request?.Path;
                    response = request switch
                    {
                        null => HttpResponse.Text("400 Bad Request", "a request line was expected\n"),
                        { Method: not ("GET" or "HEAD") } => HttpResponse.Text("405 Method Not Allowed", "only GET and HEAD\n", "Allow: GET, HEAD\r\n"),
                        { } r => await _handler(r, timeout.Token).ConfigureAwait(false),
                    };
                    await SendAsync(client, response, request?.IsHead == true, timeout.Token).ConfigureAwait(false);
                }

                if (response.Stream is { } stream && request?.IsHead == false)
                {
                    await StreamAsync(client, stream, stopping).ConfigureAwait(false);
                }

                client.Shutdown(SocketShutdown.Both);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // A client that went away or never finished its request; nothing to tell anyone.
        }
#pragma warning disable CA1031 // A failed answer must not end the endpoint: it is logged, and the next request tries again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AnswerFailed(_logger, _what, path ?? "", ex);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// Runs a streaming body until it ends, the client closes its side (noticed by reading: a client sends nothing
    /// after its request), a write stalls, or the endpoint stops; then the stream's token is cancelled and awaited.
    /// </summary>
    private static async Task StreamAsync(Socket client, Func<HttpStream, CancellationToken, Task> stream, CancellationToken stopping)
    {
        using var streaming = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var watcher = WatchForCloseAsync(client, streaming);
        try
        {
            await stream(new HttpStream(client), streaming.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (streaming.IsCancellationRequested)
        {
            // The client went away or the endpoint stops: the normal end of a stream.
        }
        finally
        {
            await streaming.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
        }
    }

    private static async Task WatchForCloseAsync(Socket client, CancellationTokenSource streaming)
    {
        var buffer = new byte[512];
        try
        {
            while (await client.ReceiveAsync(buffer, SocketFlags.None, streaming.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Either the stream ended first, or the connection broke: both end the stream.
        }
        finally
        {
            await streaming.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends the head, then the body as it is (no copy of a body into one buffer with its head); without Nagle's
    /// delay, the body follows the head at once.
    /// </summary>
    private static async Task SendAsync(Socket client, HttpResponse response, bool head, CancellationToken cancellationToken)
    {
        client.NoDelay = true;
        var length = response.Stream is null
            ? string.Create(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n")
            : "";
        var header = Encoding.UTF8.GetBytes(string.Create(
            CultureInfo.InvariantCulture,
            $"HTTP/1.1 {response.Status}\r\nContent-Type: {response.ContentType}\r\n{length}{response.Headers}Connection: close\r\n\r\n"));
        await client.SendAsync(header, cancellationToken).ConfigureAwait(false);
        if (!head && !response.Body.IsEmpty)
        {
            await client.SendAsync(response.Body, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the request head; returns its request line and Host, or <see langword="null"/> when it is not HTTP.</summary>
    private static async Task<HttpRequest?> ReadRequestAsync(Socket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        int end;
        while (true)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            length += read;
            end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                break;
            }

            if (length == buffer.Length)
            {
                return null;
            }
        }

        var lines = Encoding.ASCII.GetString(buffer, 0, end).Split("\r\n");
        if (lines[0].Split(' ') is not [var method, var target, var version] || !version.StartsWith("HTTP/1.", StringComparison.Ordinal) || !target.StartsWith('/'))
        {
            return null;
        }

        string? host = null;
        foreach (var line in lines.AsSpan(1))
        {
            if (line.StartsWith("Host:", StringComparison.OrdinalIgnoreCase))
            {
                host = line[5..].Trim();
            }
        }

        var query = target.IndexOf('?', StringComparison.Ordinal);
        return query < 0
            ? new HttpRequest(method, target, "", host)
            : new HttpRequest(method, target[..query], target[(query + 1)..], host);
    }

    /// <summary>
    /// Stops accepting, ends the streams and waits (briefly) until every connection is closed, so that what a stream
    /// holds (a log follower, an event subscription) is released before the components it came from are disposed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _accepting.ConfigureAwait(false);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        var free = 0;
        while (free < _maxConnections)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _slots.WaitAsync(left).ConfigureAwait(false))
            {
                break;
            }

            free++;
        }

        // Given back, so OpenConnections still counts what did not close in time.
        if (free > 0)
        {
            _slots.Release(free);
        }
    }
}
