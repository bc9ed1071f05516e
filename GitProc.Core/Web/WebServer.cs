using System.Buffers;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using GitProc.Delivery;
using GitProc.Events;
using GitProc.Http;
using GitProc.Logs;
using GitProc.Reconciliation;
using GitProc.Supervision;
using GitProc.UnitFiles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Web;

/// <summary>
/// Serves the read-only status page at <see cref="WebOptions.Listen"/> (<c>docs/web.md</c>): <c>/</c> (every service,
/// the commits, the recent deliveries), <c>/services/NAME</c> (a service and its log tail), and the server-sent event
/// streams the pages follow, <c>/services/NAME/logs/stream</c> and <c>/events/stream</c>. Binding is retried like the
/// metrics' (<see cref="HttpService"/>), so a taken port never stops the daemon. A stream reads the log file or a
/// bounded event subscription at the client's pace: a slow or stuck browser never slows the daemon.
/// </summary>
internal sealed class WebServer : IHttpServer
{
    /// <summary>The most log lines a page shows (<see cref="WebOptions.LogLines"/>).</summary>
    internal const int MaxLogLines = 10_000;

    /// <summary>Connections at once: each open page holds two streams.</summary>
    internal const int MaxConnections = 32;

    private const string What = "the status page";
    private const string Html = "text/html; charset=utf-8";
    private const string ServicesPrefix = "/services/";
    private const string LogStreamSuffix = "/logs/stream";

    private readonly ISupervisor _supervisor;
    private readonly IReconciler _reconciler;
    private readonly IDeliveryHistory _history;
    private readonly IServiceLogs _logs;
    private readonly IEventStream _events;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly int _logLines;
    private readonly bool _loopback;
    private readonly HttpService? _service;

    public WebServer(
        IOptions<WebOptions> options, ISupervisor supervisor, IReconciler reconciler, IDeliveryHistory history, IServiceLogs logs,
        IEventStream events, TimeProvider timeProvider, ILogger<WebServer>? logger = null)
    {
        _supervisor = supervisor;
        _reconciler = reconciler;
        _history = history;
        _logs = logs;
        _events = events;
        _timeProvider = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _logLines = options.Value.LogLines;

        // Validated at start-up (GitProcOptionsValidator), so a listen address that does not parse is not here.
        var endPoint = options.Value.Listen is { } listen ? ListenAddress.Parse(listen, out _) : null;
        if (endPoint is null)
        {
            return;
        }

        _loopback = IPAddress.IsLoopback(endPoint.Address);
        if (!_loopback)
        {
            Log.NotLoopback(_logger, endPoint.ToString());
        }

        _service = new HttpService(endPoint, HandleAsync, MaxConnections, What, "/", _logger);
    }

    /// <summary>How long a stream may be silent before it sends a heartbeat comment. Default 15 s.</summary>
    internal TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Where it serves, once listening; <see langword="null"/> before, or when off.</summary>
    public IPEndPoint? LocalEndPoint => _service?.Endpoint?.LocalEndPoint;

    /// <summary>The endpoint, once listening (tests count its open connections).</summary>
    internal HttpEndpoint? Endpoint => _service?.Endpoint;

    /// <summary>Starts listening (in the background while the address is not free); does nothing when off.</summary>
    public void Start() => _service?.Start();

    /// <summary>Routes a <c>GET</c> or <c>HEAD</c> request.</summary>
    internal async Task<HttpResponse> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (_loopback && !IsLocalHost(request.Host))
        {
            Log.ForeignHost(_logger, request.Host!);
            return HttpResponse.Text("421 Misdirected Request", "the status page answers requests for an IP address or localhost only\n");
        }

        var path = request.Path;
        if (path == "/")
        {
            return await IndexAsync(cancellationToken).ConfigureAwait(false);
        }

        if (path == "/events/stream")
        {
            return EventStream(request);
        }

        if (path.StartsWith(ServicesPrefix, StringComparison.Ordinal))
        {
            var rest = path[ServicesPrefix.Length..];
            var stream = rest.EndsWith(LogStreamSuffix, StringComparison.Ordinal);
            if (ServiceName(stream ? rest[..^LogStreamSuffix.Length] : rest) is { } name)
            {
                return stream
                    ? await LogStreamAsync(name, request, cancellationToken).ConfigureAwait(false)
                    : await ServiceAsync(name, cancellationToken).ConfigureAwait(false);
            }
        }

        return NotFound($"There is no page at {Uri.UnescapeDataString(path)}.");
    }

    private async Task<HttpResponse> IndexAsync(CancellationToken cancellationToken)
    {
        var listed = _supervisor.ListServices();
        var services = new List<ServiceSnapshot>(listed.Count);
        foreach (var listedService in listed)
        {
            try
            {
                // With memory and CPU, through the supervisor's one-second cache of cgroup readings.
                services.Add(await _supervisor.GetStatusAsync(listedService.Name, cancellationToken).ConfigureAwait(false));
            }
            catch (ServiceNotFoundException)
            {
                // Removed by a commit since it was listed.
            }
        }

        await _history.LoadAsync(cancellationToken).ConfigureAwait(false);
        var reconciler = _reconciler.Status;
        var applied = reconciler?.AppliedCommit is { } commit ? _history.Find(commit) : null;
        var history = _history.Records;
        return Page("200 OK", nonce => WebPages.Index(services, reconciler, applied, history.Take(WebPages.HistoryRecords).ToList(), Now, nonce));
    }

    private async Task<HttpResponse> ServiceAsync(string name, CancellationToken cancellationToken)
    {
        ServiceSnapshot status;
        try
        {
            status = await _supervisor.GetStatusAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (ServiceNotFoundException)
        {
            return NotFound($"There is no service named {name}.");
        }

        var lines = await _logs.ReadLastLinesAsync(name, _logLines, cancellationToken).ConfigureAwait(false);
        return Page("200 OK", nonce => WebPages.Service(status, lines, _logLines, Now, nonce));
    }

    /// <summary>
    /// The log's last <c>tail</c> lines (default none), then each new line as it is written: as IPC <c>logs --follow</c>
    /// reads them, from the log file, so a slow reader costs the daemon nothing but this connection.
    /// </summary>
    private async Task<HttpResponse> LogStreamAsync(string name, HttpRequest request, CancellationToken cancellationToken)
    {
        if (!TryGetQuery(request.Query, "tail", out var tailText) || tailText is null)
        {
            tailText = "0";
        }

        if (!int.TryParse(tailText, NumberStyles.None, CultureInfo.InvariantCulture, out var tail) || tail > MaxLogLines)
        {
            return HttpResponse.Text("400 Bad Request", $"tail must be a number from 0 to {MaxLogLines} (was '{tailText}')\n");
        }

        if (!Exists(name))
        {
            return NotFound($"There is no service named {name}.");
        }

        var lines = tail == 0 ? [] : await _logs.ReadLastLinesAsync(name, tail, cancellationToken).ConfigureAwait(false);
        return ServerSentEvents.Response((stream, token) =>
            ServerSentEvents.PumpAsync(stream, Concat(lines, _logs.FollowAsync(name, token)), WriteLine, Heartbeat, token));
    }

    private static void WriteLine(string line, IBufferWriter<byte> buffer) => ServerSentEvents.WriteData(buffer, line);

    /// <summary>The tail read first, then the followed lines.</summary>
    private static async IAsyncEnumerable<string> Concat(IReadOnlyList<string> first, IAsyncEnumerable<string> then)
    {
        foreach (var line in first)
        {
            yield return line;
        }

        await foreach (var line in then.ConfigureAwait(false))
        {
            yield return line;
        }
    }

    /// <summary>
    /// The daemon's events (<c>?service=NAME</c>: that service's) as they are published, one JSON object each, as IPC
    /// <c>subscribe</c> sends them. A client that falls more than the subscriber buffer behind is dropped like any
    /// subscriber: the stream then says so (<c>event: dropped</c>) and ends, and the browser reconnects.
    /// </summary>
    private HttpResponse EventStream(HttpRequest request)
    {
        if (!TryGetQuery(request.Query, "service", out var service))
        {
            return HttpResponse.Text("400 Bad Request", "the query was not understood\n");
        }

        if (service is not null && (!UnitFileParser.IsValidServiceName(service) || !Exists(service)))
        {
            return NotFound($"There is no service named {service}.");
        }

        return ServerSentEvents.Response(async (stream, token) =>
        {
            using var subscription = _events.Subscribe(new EventFilter(service, null));
            await ServerSentEvents.PumpAsync(stream, subscription.ReadAllAsync(token), WriteEvent, Heartbeat, token).ConfigureAwait(false);
            if (subscription.DropReason is { } reason)
            {
                var buffer = new ArrayBufferWriter<byte>();
                ServerSentEvents.WriteData(buffer, reason, "dropped");
                await stream.WriteAsync(buffer.WrittenMemory, token).ConfigureAwait(false);
            }
        });
    }

    private static void WriteEvent(GitProcEvent e, IBufferWriter<byte> buffer) => ServerSentEvents.WriteJson(buffer, e.ToUtf8Json(), e.Seq);

    private bool Exists(string name)
    {
        try
        {
            _ = _supervisor.GetStatus(name);
            return true;
        }
        catch (ServiceNotFoundException)
        {
            return false;
        }
    }

    private DateTimeOffset Now => _timeProvider.GetUtcNow();

    private HttpResponse NotFound(string message) => Page("404 Not Found", nonce => WebPages.NotFound(message, Now, nonce));

    /// <summary>
    /// An HTML page with a fresh nonce: its policy lets the page's own style and script run and nothing else, so even
    /// text that escaped escaping could not run a script.
    /// </summary>
    private static HttpResponse Page(string status, Func<string, string> render)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        return new HttpResponse
        {
            Status = status,
            ContentType = Html,
            Body = Encoding.UTF8.GetBytes(render(nonce)),
            Headers = "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
                + $"Content-Security-Policy: default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
                + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n",
        };
    }

    /// <summary>A service name from a path segment (percent-decoded), or <see langword="null"/> when it cannot be one.</summary>
    private static string? ServiceName(string segment)
    {
        if (segment.Length == 0 || segment.Contains('/', StringComparison.Ordinal))
        {
            return null;
        }

        string name;
        try
        {
            name = Uri.UnescapeDataString(segment);
        }
        catch (UriFormatException)
        {
            return null;
        }

        return UnitFileParser.IsValidServiceName(name) ? name : null;
    }

    /// <summary>One query parameter (percent-decoded); false when the query cannot be read.</summary>
    private static bool TryGetQuery(string query, string key, out string? value)
    {
        value = null;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            if (name == key)
            {
                try
                {
                    value = Uri.UnescapeDataString(equals < 0 ? "" : pair[(equals + 1)..].Replace('+', ' '));
                }
                catch (UriFormatException)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Whether a request names this machine by address or as <c>localhost</c>. On loopback anything else is refused:
    /// a web page on another site could make a browser resolve its own name to 127.0.0.1 (DNS rebinding) and read the
    /// status page as if it were its own. A request without <c>Host</c> (HTTP/1.0) comes from no browser and passes.
    /// </summary>
    internal static bool IsLocalHost(string? host)
    {
        if (host is null)
        {
            return true;
        }

        var name = host.StartsWith('[') && host.IndexOf(']', StringComparison.Ordinal) is var close and > 0
            ? host[1..close]
            : host.LastIndexOf(':') is var colon and >= 0 ? host[..colon] : host;
        return IPAddress.TryParse(name, out _)
            || string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Stops serving (the host's stop, then the container's disposal: the second call does nothing).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync().ConfigureAwait(false);
        }
    }
}
