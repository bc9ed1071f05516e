using System.Net;
using GitProc.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Metrics;

/// <summary>
/// Serves the <c>GitProc</c> meter at <see cref="MetricsOptions.Listen"/>: a <see cref="PrometheusExporter"/> behind a
/// <see cref="MetricsEndpoint"/>, bound by an <see cref="HttpService"/> that retries an address it cannot bind: metrics
/// are never a reason for the daemon, or its services, to stop.
/// </summary>
internal sealed class MetricsServer : IHttpServer
{
    private readonly GitProcMetrics _metrics;
    private readonly PrometheusExporter? _exporter;
    private readonly HttpService? _service;

    public MetricsServer(IOptions<MetricsOptions> options, GitProcMetrics metrics, ILogger<MetricsServer>? logger = null)
    {
        _metrics = metrics;

        // Validated at start-up (GitProcOptionsValidator), so a listen address that does not parse is not here.
        var endPoint = options.Value.Listen is { } listen ? ListenAddress.Parse(listen, out _) : null;
        if (endPoint is null)
        {
            return;
        }

        // Listening from construction (the host makes its hosted services before starting any), so the starts and the
        // apply of the daemon's start-up are counted too: a counter's measurement made before a listener is lost.
        _exporter = new PrometheusExporter(metrics.MeterScope, GitProcMetrics.MeterName);
        _service = new HttpService(endPoint, MetricsEndpoint.Handler(RenderAsync), MetricsEndpoint.MaxConnections, MetricsEndpoint.What, MetricsEndpoint.Path, (ILogger?)logger ?? NullLogger.Instance);
    }

    /// <summary>Where it serves, once listening; <see langword="null"/> before, or when off.</summary>
    public IPEndPoint? LocalEndPoint => _service?.Endpoint?.LocalEndPoint;

    /// <summary>Starts listening (in the background while the address is not free); does nothing when off.</summary>
    public void Start() => _service?.Start();

    private async Task<byte[]> RenderAsync(CancellationToken cancellationToken)
    {
        await _metrics.RefreshUsageAsync(cancellationToken).ConfigureAwait(false);
        return await _exporter!.CollectAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops serving (the host's stop, then the container's disposal: the second call does nothing).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync().ConfigureAwait(false);
        }

        _exporter?.Dispose();
    }
}
