using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace GitProc.Http;

/// <summary>
/// An <see cref="HttpEndpoint"/> that keeps trying: an address that cannot be bound (in use, say) is logged once and
/// tried again every <see cref="RetryInterval"/>, so what it serves is never a reason for the daemon, or its services,
/// to stop.
/// </summary>
/// <param name="endPoint">Where to listen.</param>
/// <param name="handler">Answers each <c>GET</c> and <c>HEAD</c>.</param>
/// <param name="maxConnections">Connections served at once.</param>
/// <param name="what">What is served, for the log (<c>metrics</c>).</param>
/// <param name="home">The path the log's "Serving … on URL" line points at (<c>/metrics</c>).</param>
/// <param name="logger">Where it says what it does.</param>
internal sealed class HttpService(
    IPEndPoint endPoint, Func<HttpRequest, CancellationToken, Task<HttpResponse>> handler, int maxConnections, string what, string home, ILogger logger)
    : IAsyncDisposable
{
    internal static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stop = new();
    private HttpEndpoint? _endpoint;
    private Task _listening = Task.CompletedTask;
    private int _disposed;

    /// <summary>The endpoint, once listening; <see langword="null"/> before.</summary>
    public HttpEndpoint? Endpoint => Volatile.Read(ref _endpoint);

    /// <summary>Starts listening (in the background while the address is not free); a second call does nothing.</summary>
    public void Start()
    {
        if (!_listening.IsCompleted || Endpoint is not null || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        _listening = ListenAsync(_stop.Token);
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var endpoint = HttpEndpoint.Start(endPoint, handler, maxConnections, what, logger);
                Volatile.Write(ref _endpoint, endpoint);
                Log.Serving(logger, what, $"http://{endpoint.LocalEndPoint}{home}");
                return;
            }
            catch (SocketException ex)
            {
                // Said once, not every ten seconds for as long as the port stays taken.
                if (failures++ == 0)
                {
                    Log.ListenFailed(logger, what, endPoint.ToString(), ex.Message, (int)RetryInterval.TotalSeconds);
                }
            }

            try
            {
                await Task.Delay(RetryInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Stops serving (the host's stop, then the container's disposal: the second call does nothing).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _listening.ConfigureAwait(false);
        if (Endpoint is { } endpoint)
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
