using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>A bare line-oriented socket client, so the tests see exactly the bytes the server sends.</summary>
internal sealed class RawIpcClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    private RawIpcClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    public static async Task<RawIpcClient> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return new RawIpcClient(socket);
    }

    public NetworkStream Stream => _stream;

    public async Task SendLineAsync(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        await _stream.WriteAsync(bytes);
    }

    /// <summary>The next line, or <see langword="null"/> at end of stream (a reset counts as the end too).</summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            return await _reader.ReadLineAsync(timeout.Token);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Sends a request line and parses the one-line response.</summary>
    public async Task<JsonDocument> RequestAsync(string line)
    {
        await SendLineAsync(line);
        var response = await ReadLineAsync() ?? throw new AssertionException("The server closed the connection without answering.");
        return JsonDocument.Parse(response);
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
