using System.Net;
using System.Net.Sockets;
using System.Text;
using GitProc.Core.Tests.TestSupport;
using GitProc.Http;
using GitProc.Metrics;
using Microsoft.Extensions.Logging.Abstractions;

namespace GitProc.Core.Tests.Metrics;

/// <summary>The endpoint over real TCP on 127.0.0.1, with a real HTTP client and with raw sockets.</summary>
[CancelAfter(30_000)]
public sealed class MetricsEndpointTests
{
    private static readonly byte[] Body = "# TYPE x gauge\nx 1\n"u8.ToArray();

    private HttpEndpoint _endpoint = null!;
    private int _renders;

    [SetUp]
    public void SetUp()
    {
        _renders = 0;
        _endpoint = MetricsEndpoint.Start(new IPEndPoint(IPAddress.Loopback, 0), _ =>
        {
            Interlocked.Increment(ref _renders);
            return Task.FromResult(Body);
        }, NullLogger.Instance);
    }

    [TearDown]
    public async Task TearDown() => await _endpoint.DisposeAsync();

    private Uri Url(string path) => new($"http://127.0.0.1:{_endpoint.LocalEndPoint.Port}{path}");

    [Test]
    public async Task Get_metrics_answers_the_text_format_with_its_content_type()
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync(Url("/metrics?debug=1"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo("text/plain; version=0.0.4; charset=utf-8"));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(Body));
    }

    [Test]
    public async Task Other_paths_are_404_other_methods_405_and_HEAD_has_no_body()
    {
        using var client = new HttpClient();
        using var missing = await client.GetAsync(Url("/metric"));
        using var post = await client.PostAsync(Url("/metrics"), new StringContent("x"));
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url("/metrics")));

        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
        Assert.That(post.Content.Headers.Allow, Is.EquivalentTo(new[] { "GET", "HEAD" }));
        Assert.That(head.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(head.Content.Headers.ContentLength, Is.EqualTo(Body.Length));
        Assert.That(await head.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [Test]
    public async Task Garbage_is_a_400_and_the_endpoint_keeps_serving()
    {
        var answer = await RawAsync("HELLO\r\n\r\n");
        Assert.That(answer, Does.StartWith("HTTP/1.1 400 "));

        using var client = new HttpClient();
        Assert.That((await client.GetAsync(Url("/metrics"))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Silent_clients_up_to_the_limit_do_not_hold_up_a_scrape_and_past_it_a_client_gets_503()
    {
        // Connections that never send a request occupy slots but not the accept loop.
        var silent = new List<Socket>();
        try
        {
            for (var i = 0; i < MetricsEndpoint.MaxConnections - 1; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(_endpoint.LocalEndPoint);
                silent.Add(socket);
            }

            // A new connection each time (the server may not have counted every silent one at the first try).
            await Eventually.TrueAsync(
                async () =>
                {
                    using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                    using var served = await client.GetAsync(Url("/metrics"));
                    return served.StatusCode == HttpStatusCode.OK;
                },
                "one slot was left for a scrape");

            var last = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await last.ConnectAsync(_endpoint.LocalEndPoint);
            silent.Add(last);

            // Every slot is taken by a silent client now (the served one gave its slot back).
            await Eventually.TrueAsync(
                async () => (await RawAsync("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")).StartsWith("HTTP/1.1 503 ", StringComparison.Ordinal),
                "a client past the limit gets 503");
        }
        finally
        {
            foreach (var socket in silent)
            {
                socket.Dispose();
            }
        }

        using var after = new HttpClient();
        await Eventually.TrueAsync(async () => (await after.GetAsync(Url("/metrics"))).StatusCode == HttpStatusCode.OK, "slots are given back when clients leave");
    }

    [Test]
    public async Task The_port_binds_again_at_once_after_the_endpoint_closed_connections_and_stopped()
    {
        var endPoint = _endpoint.LocalEndPoint;
        using (var client = new HttpClient())
        {
            Assert.That((await client.GetAsync(Url("/metrics"))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        await _endpoint.DisposeAsync();
        _endpoint = MetricsEndpoint.Start(endPoint, _ => Task.FromResult(Body), NullLogger.Instance);

        using var again = new HttpClient();
        Assert.That((await again.GetAsync(Url("/metrics"))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public void A_taken_port_cannot_be_bound_twice()
    {
        var error = Assert.Throws<SocketException>(() => MetricsEndpoint.Start(_endpoint.LocalEndPoint, _ => Task.FromResult(Body), NullLogger.Instance));
        Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
    }

    private async Task<string> RawAsync(string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_endpoint.LocalEndPoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[4096];
        var answer = new StringBuilder();
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return answer.ToString();
    }
}
