using System.Net;
using GitProc.Http;
using Microsoft.Extensions.Logging;

namespace GitProc.Metrics;

/// <summary>
/// The metrics' one resource on an <see cref="HttpEndpoint"/>: <c>GET /metrics</c> (and <c>HEAD</c>) answers the
/// Prometheus text, <c>/</c> a line pointing at it, other paths 404.
/// </summary>
internal static class MetricsEndpoint
{
    public const string Path = "/metrics";

    /// <summary>Scrapes served at once; more get 503.</summary>
    internal const int MaxConnections = 8;

    /// <summary>What the log calls it.</summary>
    internal const string What = "metrics";

    /// <summary>Binds <paramref name="endPoint"/> and serves the text <paramref name="render"/> makes.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">The address cannot be bound.</exception>
    public static HttpEndpoint Start(IPEndPoint endPoint, Func<CancellationToken, Task<byte[]>> render, ILogger logger) =>
        HttpEndpoint.Start(endPoint, Handler(render), MaxConnections, What, logger);

    /// <summary>The routes, for an <see cref="HttpEndpoint"/> or an <see cref="HttpService"/>.</summary>
    public static Func<HttpRequest, CancellationToken, Task<HttpResponse>> Handler(Func<CancellationToken, Task<byte[]>> render) =>
        async (request, cancellationToken) => request.Path switch
        {
            Path => new HttpResponse { Status = "200 OK", ContentType = PrometheusText.ContentType, Body = await render(cancellationToken).ConfigureAwait(false) },
            "/" => HttpResponse.Text("200 OK", "GitProc metrics: /metrics\n"),
            _ => HttpResponse.Text("404 Not Found", "not found: GitProc serves /metrics\n"),
        };
}
