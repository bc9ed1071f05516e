using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 (ephemeral port) with keep-alive, whose answer per path is set by the
/// test: a status, a delay, hanging forever, or closing the connection. Counts requests per path. Disposing it
/// stops listening and closes every connection.
/// </summary>
internal sealed class TestHttpServer : IAsyncDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Answer> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<int>> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Socket, Task> _connections = new();
    private readonly Task _acceptLoop;
    private int _totalRequests;
    private int _acceptedConnections;

    public TestHttpServer()
    {
        _listener.Start(512);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    public int Port { get; }

    public int TotalRequests => Volatile.Read(ref _totalRequests);

    public int AcceptedConnections => Volatile.Read(ref _acceptedConnections);

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}{path}");

    public int Requests(string path) => _counts.TryGetValue(path, out var box) ? Volatile.Read(ref box.Value) : 0;

    /// <summary>Answers <paramref name="path"/> with <paramref name="status"/> (default for unknown paths: 200).</summary>
    public void Respond(string path, int status, TimeSpan delay = default) => _answers[path] = new Answer(status, delay, false, false);

    public void Hang(string path) => _answers[path] = new Answer(0, default, true, false);

    public void CloseConnection(string path) => _answers[path] = new Answer(0, default, false, true);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _connections.Keys)
        {
            socket.Dispose();
        }

        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(_connections.Values);
        _stop.Dispose();
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        204 => "No Content",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            Interlocked.Increment(ref _acceptedConnections);
            var gate = new TaskCompletionSource();
            _connections[socket] = ServeAsync(socket, gate.Task);
            gate.SetResult();
        }
    }

    private async Task ServeAsync(Socket socket, Task registered)
    {
        await registered;
        var token = _stop.Token;
        var buffer = new byte[8192];
        var filled = 0;
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            while (!token.IsCancellationRequested)
            {
                int end;
                while ((end = buffer.AsSpan(0, filled).IndexOf(HeaderEnd)) < 0)
                {
                    if (filled == buffer.Length)
                    {
                        return;
                    }

                    var read = await stream.ReadAsync(buffer.AsMemory(filled), token);
                    if (read == 0)
                    {
                        return;
                    }

                    filled += read;
                }

                var head = Encoding.ASCII.GetString(buffer, 0, end);
                var consumed = end + HeaderEnd.Length;
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;

                var path = head.Split(' ', 3)[1];
                Interlocked.Increment(ref _counts.GetOrAdd(path, static _ => new StrongBox<int>()).Value);
                Interlocked.Increment(ref _totalRequests);

                var answer = _answers.GetValueOrDefault(path, new Answer(200, default, false, false));
                if (answer.Close)
                {
                    return;
                }

                if (answer.Hang)
                {
                    await Task.Delay(Timeout.Infinite, token);
                }

                if (answer.Delay > TimeSpan.Zero)
                {
                    await Task.Delay(answer.Delay, token);
                }

                var location = answer.Status is >= 300 and < 400 ? "Location: /elsewhere\r\n" : string.Empty;
                var response = string.Create(
                    CultureInfo.InvariantCulture,
                    $"HTTP/1.1 {answer.Status} {Reason(answer.Status)}\r\n{location}Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response), token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            socket.Dispose();
            _connections.TryRemove(socket, out _);
        }
    }

    private sealed record Answer(int Status, TimeSpan Delay, bool Hang, bool Close);
}
