using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GitProc.Metrics;

/// <summary>
/// Serves the <c>GitProc</c> meter at <see cref="MetricsOptions.Listen"/>: a <see cref="PrometheusExporter"/> behind a
/// <see cref="MetricsEndpoint"/>. An address that cannot be bound (in use, say) is logged and tried again every
/// <see cref="RetryInterval"/>: metrics are never a reason for the daemon, or its services, to stop.
/// </summary>
internal sealed class MetricsServer : IAsyncDisposable
{
    internal static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(10);

    private readonly GitProcMetrics _metrics;
    private readonly ILogger<MetricsServer> _logger;
    private readonly IPEndPoint? _endPoint;
    private readonly CancellationTokenSource _stop = new();
    private readonly PrometheusExporter? _exporter;
    private MetricsEndpoint? _endpoint;
    private Task _listening = Task.CompletedTask;
    private int _disposed;

    public MetricsServer(IOptions<GitProcOptions> options, GitProcMetrics metrics, IMeterFactory meterFactory, ILogger<MetricsServer> logger)
    {
        _metrics = metrics;
        _logger = logger;

        // Validated at start-up (GitProcOptionsValidator), so a listen address that does not parse is not here.
        _endPoint = options.Value.Metrics.Listen is { } listen ? ListenAddress.Parse(listen, out _) : null;

        // Listening from construction (the host makes its hosted services before starting any), so the starts and the
        // apply of the daemon's start-up are counted too: a counter's measurement made before a listener is lost.
        _exporter = _endPoint is null ? null : new PrometheusExporter(meterFactory);
    }

    /// <summary>Where it serves, once listening; <see langword="null"/> before, or when off.</summary>
    public IPEndPoint? LocalEndPoint => Volatile.Read(ref _endpoint)?.LocalEndPoint;

    /// <summary>Starts listening (in the background while the address is not free); does nothing when off.</summary>
    public void Start()
    {
        if (_endPoint is null || !_listening.IsCompleted || Volatile.Read(ref _endpoint) is not null)
        {
            return;
        }

        _listening = ListenAsync(_endPoint, _stop.Token);
    }

    private async Task ListenAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var endpoint = MetricsEndpoint.Start(endPoint, RenderAsync, _logger);
                Volatile.Write(ref _endpoint, endpoint);
                Log.Serving(_logger, endpoint.LocalEndPoint.ToString());
                return;
            }
            catch (SocketException ex)
            {
                // Said once, not every ten seconds for as long as the port stays taken.
                if (failures++ == 0)
                {
                    Log.ListenFailed(_logger, endPoint.ToString(), ex.Message, (int)RetryInterval.TotalSeconds);
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

    private async Task<byte[]> RenderAsync(CancellationToken cancellationToken)
    {
        await _metrics.RefreshUsageAsync(cancellationToken).ConfigureAwait(false);
        return await _exporter!.CollectAsync(cancellationToken).ConfigureAwait(false);
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
        if (Volatile.Read(ref _endpoint) is { } endpoint)
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }

        _exporter?.Dispose();
        _stop.Dispose();
    }
}
