using System.Net.Sockets;

namespace GitProc.Http;

/// <summary>
/// The client connection of a streamed answer. A write that the client does not take within <see cref="SendTimeout"/>
/// (it stopped reading and the socket's buffers are full) fails, which ends the stream: a stuck client holds nothing
/// but its own connection and a bounded send buffer.
/// </summary>
internal sealed class HttpStream
{
    /// <summary>How long one write may wait for a client that does not read: 10 seconds.</summary>
    internal static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _client;

    /// <summary>The kernel's send buffer for a stream: 128 KiB, where autotuning would let a client that stopped reading pile up to 4 MiB.</summary>
    internal const int SendBufferBytes = 128 * 1024;

    internal HttpStream(Socket client)
    {
        _client = client;
        client.SendBufferSize = SendBufferBytes;
    }

    /// <summary>Sends <paramref name="data"/> whole.</summary>
    /// <exception cref="OperationCanceledException">The stream ends, or the client did not take the data in time.</exception>
    /// <exception cref="SocketException">The connection broke.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var stalled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stalled.CancelAfter(SendTimeout);
        while (!data.IsEmpty)
        {
            var sent = await _client.SendAsync(data, SocketFlags.None, stalled.Token).ConfigureAwait(false);
            data = data[sent..];
        }
    }
}
