using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Polly;
using Polly.Timeout;

namespace GitProc.Health;

/// <summary>
/// Performs single checks for every watched service through one <see cref="HttpClient"/> over one pooled
/// handler, so checks reuse keep-alive connections and cost a request, not a connection, a client or a timer.
/// </summary>
internal sealed class HealthProbe : IDisposable
{
    private static readonly TimeSpan MinimumTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaximumTimeout = TimeSpan.FromDays(1);

    private readonly HttpClient _client;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<TimeSpan, ResiliencePipeline> _pipelines = new();

    public HealthProbe(HealthOptions options, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        var handler = new SocketsHttpHandler
        {
            // A 3xx answer is itself healthy; following it would check another endpoint.
            AllowAutoRedirect = false,
            // An environment proxy must never intercept checks of local endpoints.
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            // Long enough to reuse connections across the default 30 s interval, short enough to follow DNS changes.
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            // Each check's own timeout bounds connecting; this is only a backstop.
            ConnectTimeout = TimeSpan.FromSeconds(30),
            // MaxConnectionsPerServer stays unlimited on purpose: at most one check per service is in flight,
            // and with a limit, services behind one host:port would queue behind a hanging sibling.
        };
        if (options.AcceptAnyServerCertificate)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }

        _client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("GitProc-HealthCheck/1.0");
    }

    /// <summary>The timeout pipeline for <paramref name="timeout"/>, shared by every check with that timeout.</summary>
    public ResiliencePipeline PipelineFor(TimeSpan timeout)
    {
        var clamped = timeout < MinimumTimeout ? MinimumTimeout : timeout > MaximumTimeout ? MaximumTimeout : timeout;
        return _pipelines.GetOrAdd(
            clamped,
            static (t, timeProvider) => new ResiliencePipelineBuilder { TimeProvider = timeProvider }.AddTimeout(t).Build(),
            _timeProvider);
    }

    /// <summary>
    /// Checks <paramref name="url"/> once. The error is <see langword="null"/> when it answered 2xx or 3xx in time,
    /// else why not, in a few words; the outcome says when the check could not even be made because the daemon is out
    /// of descriptors or memory, which says nothing about the service. Throws only
    /// <see cref="OperationCanceledException"/> for <paramref name="cancellationToken"/>.
    /// </summary>
    public async ValueTask<ProbeOutcome> CheckAsync(Uri url, ResiliencePipeline pipeline, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return new ProbeOutcome(await pipeline.ExecuteAsync(
                static (state, token) => state.Probe.GetAsync(state.Url, token),
                (Probe: this, Url: url),
                cancellationToken).ConfigureAwait(false));
        }
        catch (TimeoutRejectedException)
        {
            return new ProbeOutcome("timed out after " + FormatDuration(timeout));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            // The handler's ConnectTimeout, the only other source of cancellation.
            return new ProbeOutcome("timed out while connecting");
        }
        catch (HttpRequestException e)
        {
            return new ProbeOutcome(Describe(e, url), IsDaemonShortage(e));
        }
#pragma warning disable CA1031 // Any failure of a check is a failed check, never a crashed loop.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new ProbeOutcome(e.Message, IsDaemonShortage(e));
        }
    }

    public void Dispose() => _client.Dispose();

    internal static string FormatDuration(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0.###}ms");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.###}s");
    }

    /// <summary>The check could not open a socket (EMFILE, ENFILE, ENOBUFS) or failed for another shortage of the daemon's.</summary>
    internal static bool IsDaemonShortage(Exception e) =>
        ResourceShortage.Is(e)
        || e.InnerException is SocketException { SocketErrorCode: SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable }
        || e is SocketException { SocketErrorCode: SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable };

    private static string Describe(HttpRequestException e, Uri url)
    {
        if (e.InnerException is SocketException socket)
        {
            return socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.ConnectionReset => "connection reset",
                SocketError.HostUnreachable => "host unreachable",
                SocketError.NetworkUnreachable => "network unreachable",
                SocketError.TimedOut => "timed out while connecting",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"cannot resolve host '{url.Host}'",
                _ => socket.Message,
            };
        }

        return e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => $"cannot resolve host '{url.Host}'",
            HttpRequestError.ResponseEnded => "connection closed without a response",
            HttpRequestError.InvalidResponse => "invalid HTTP response",
            HttpRequestError.SecureConnectionError => "TLS handshake failed: " + (e.InnerException?.Message ?? e.Message),
            _ => e.InnerException?.Message ?? e.Message,
        };
    }

    private async ValueTask<string?> GetAsync(Uri url, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);

        // Headers are enough for the verdict; disposing the response drains a small body so the connection is reused.
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var code = (int)response.StatusCode;
        if (code is >= 200 and < 400)
        {
            return null;
        }

        return string.IsNullOrEmpty(response.ReasonPhrase)
            ? string.Create(CultureInfo.InvariantCulture, $"HTTP {code}")
            : string.Create(CultureInfo.InvariantCulture, $"HTTP {code} {response.ReasonPhrase}");
    }
}
