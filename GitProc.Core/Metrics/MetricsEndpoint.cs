using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace GitProc.Metrics;

/// <summary>
/// A minimal HTTP/1.1 server for one resource: <c>GET /metrics</c> (and <c>HEAD</c>) answers the Prometheus text,
/// every connection is closed after its answer. Enough for Prometheus and curl, and small in a NativeAOT binary
/// (no <c>HttpListener</c>, no Kestrel). A slow or silent client holds only its own connection, for at most
/// <see cref="RequestTimeout"/>; past <see cref="MaxConnections"/> at once, new ones get 503.
/// </summary>
internal sealed class MetricsEndpoint : IAsyncDisposable
{
    public const string Path = "/metrics";

    internal const int MaxConnections = 8;
    private const int MaxRequestBytes = 8192;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly Func<CancellationToken, Task<byte[]>> _render;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxConnections, MaxConnections);
    private Task _accepting = Task.CompletedTask;

    private MetricsEndpoint(Socket socket, Func<CancellationToken, Task<byte[]>> render, ILogger logger)
    {
        _socket = socket;
        _render = render;
        _logger = logger;
    }

    /// <summary>The address it listens on (with the port the system chose, for port 0).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Binds and starts accepting.</summary>
    /// <exception cref="SocketException">The address cannot be bound (in use, not this machine's, no permission).</exception>
    public static MetricsEndpoint Start(IPEndPoint endPoint, Func<CancellationToken, Task<byte[]>> render, ILogger logger)
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

        var endpoint = new MetricsEndpoint(socket, render, logger);
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
                Log.AcceptFailed(_logger, ex.Message);
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
                await SendAsync(client, Response("503 Service Unavailable", "text/plain; charset=utf-8", "too many scrapes at once\n"u8.ToArray(), head: false), CancellationToken.None)
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
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using (client)
            {
                var request = await ReadRequestAsync(client, timeout.Token).ConfigureAwait(false);
                var response = request is null
                    ? Response("400 Bad Request", "text/plain; charset=utf-8", "a request line was expected\n"u8.ToArray(), head: false)
                    : await AnswerAsync(request.Value.Method, request.Value.Target, timeout.Token).ConfigureAwait(false);
                await SendAsync(client, response, timeout.Token).ConfigureAwait(false);
                client.Shutdown(SocketShutdown.Both);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // A client that went away or never finished its request; nothing to tell anyone.
        }
#pragma warning disable CA1031 // A failed collection must not end the endpoint: it is logged, and the next scrape tries again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ScrapeFailed(_logger, ex);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// Sends the head, then the body as it is (no copy of a scrape into one buffer with its head); without Nagle's
    /// delay, the body follows the head at once.
    /// </summary>
    private static async Task SendAsync(Socket client, Answer answer, CancellationToken cancellationToken)
    {
        client.NoDelay = true;
        await client.SendAsync(answer.Head, cancellationToken).ConfigureAwait(false);
        if (!answer.Body.IsEmpty)
        {
            await client.SendAsync(answer.Body, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<Answer> AnswerAsync(string method, string target, CancellationToken cancellationToken)
    {
        var path = target.Split('?', 2)[0];
        var head = method == "HEAD";
        if (method != "GET" && !head)
        {
            return Response("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET and HEAD\n"u8.ToArray(), head: false, "Allow: GET, HEAD\r\n");
        }

        if (path == Path)
        {
            return Response("200 OK", PrometheusText.ContentType, await _render(cancellationToken).ConfigureAwait(false), head);
        }

        return path == "/"
            ? Response("200 OK", "text/plain; charset=utf-8", "GitProc metrics: /metrics\n"u8.ToArray(), head)
            : Response("404 Not Found", "text/plain; charset=utf-8", "not found: GitProc serves /metrics\n"u8.ToArray(), head);
    }

    /// <summary>Reads the request head; returns its method and target, or <see langword="null"/> when it is not HTTP.</summary>
    private static async Task<(string Method, string Target)?> ReadRequestAsync(Socket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (true)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            length += read;
            var end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                break;
            }

            if (length == buffer.Length)
            {
                return null;
            }
        }

        var firstLine = buffer.AsSpan(0, buffer.AsSpan(0, length).IndexOf("\r\n"u8));
        var parts = Encoding.ASCII.GetString(firstLine).Split(' ');
        return parts is [var method, var target, var version] && version.StartsWith("HTTP/1.", StringComparison.Ordinal) && target.StartsWith('/')
            ? (method, target)
            : null;
    }

    private static Answer Response(string status, string contentType, byte[] body, bool head, string extraHeaders = "")
    {
        var header = Encoding.ASCII.GetBytes(string.Create(
            CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n"));
        return new Answer(header, head ? ReadOnlyMemory<byte>.Empty : body);
    }

    /// <summary>An HTTP answer: its head (status line and headers) and its body.</summary>
    private readonly record struct Answer(byte[] Head, ReadOnlyMemory<byte> Body);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _accepting.ConfigureAwait(false);
        _stop.Dispose();
    }
}
