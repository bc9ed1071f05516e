using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GitProc.Core.Tests.TestSupport;
using GitProc.Delivery;
using GitProc.Events;
using GitProc.Logs;
using GitProc.Reconciliation;
using GitProc.State;
using GitProc.Supervision;
using GitProc.Web;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;

namespace GitProc.Core.Tests.Web;

/// <summary>
/// The status page over real HTTP on 127.0.0.1, with the real log store (files in a temporary directory), the real
/// event stream and delivery history, and a mocked supervisor and reconciler.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(30_000)]
public sealed class WebServerTests
{
    private string _directory = null!;
    private ServiceLogs _logs = null!;
    private EventStream _events = null!;
    private WebServer _server = null!;
    private Mock<ISupervisor> _supervisor = null!;

    private static ServiceSnapshot Status(string name, int? pid = 4242) => new()
    {
        Name = name,
        Status = pid is null ? ServiceStatus.Stopped : ServiceStatus.Running,
        SubState = pid is null ? "dead" : "running",
        Pid = pid,
        StartTime = DateTimeOffset.UtcNow,
    };

    [SetUp]
    public async Task SetUp()
    {
        _directory = Directory.CreateTempSubdirectory("gp-web-").FullName;
        var options = new GitProcOptions
        {
            LogDirectory = Path.Combine(_directory, "logs"),
            StatePath = Path.Combine(_directory, "state.json"),
            Web = new WebOptions { Listen = "127.0.0.1:" + Scrape.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), LogLines = 50 },
        };
        _logs = new ServiceLogs(Options.Create(options.ToPaths()), Options.Create(options.Logs), TimeProvider.System, NullLogger<ServiceLogs>.Instance);
        _events = new EventStream(Options.Create(options.Events), TimeProvider.System);
        _supervisor = new Mock<ISupervisor>();
        _supervisor.Setup(s => s.ListServices()).Returns([Status("web"), Status("db", pid: null)]);
        _supervisor.Setup(s => s.GetStatus(It.IsAny<string>())).Returns((string n) => n is "web" or "db" ? Status(n) : throw new ServiceNotFoundException(n));
        _supervisor.Setup(s => s.GetStatusAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string n, CancellationToken _) => n == "web" ? Status(n) : n == "db" ? Status(n, pid: null) : throw new ServiceNotFoundException(n));
        var reconciler = new Mock<IReconciler>();
        reconciler.Setup(r => r.Status).Returns(new ReconcilerStatus("main", "0123456789abcdef0123456789abcdef01234567", null));
        var history = new DeliveryHistory(Options.Create(options.ToPaths()), Options.Create(options.Delivery), NullLogger<DeliveryHistory>.Instance);
        await history.RecordAsync(new DeliveryRecord { Commit = "0123456789abcdef0123456789abcdef01234567", Subject = "add web & db", Result = DeliveryResult.Applied });

        _server = new WebServer(Options.Create(options.Web), _supervisor.Object, reconciler.Object, history, _logs, _events, TimeProvider.System, NullLogger<WebServer>.Instance)
        {
            Heartbeat = TimeSpan.FromMilliseconds(200),
        };
        _server.Start();
        await Eventually.TrueAsync(() => _server.LocalEndPoint is not null, "the server listens");
    }

    [TearDown]
    public async Task TearDown()
    {
        await _server.DisposeAsync();
        await _logs.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Uri Url(string path) => new($"http://127.0.0.1:{_server.LocalEndPoint!.Port}{path}");

    private async Task WriteLogAsync(string service, string text)
    {
        await using var writer = _logs.OpenWriter(service);
        await writer.WriteAsync(Encoding.UTF8.GetBytes(text));
    }

    [Test]
    public async Task The_front_page_lists_every_service_with_a_link_its_state_and_pid_and_the_applied_commit()
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync(Url("/"));
        var html = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo("text/html; charset=utf-8"));
        Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.StartWith("default-src 'none'; script-src 'nonce-"));
        Assert.That(html, Does.Contain("<a href=\"/services/web\">web</a></td><td data-field=\"state\" class=\"running\">running</td>"));
        Assert.That(html, Does.Contain("<td data-field=\"pid\" class=\"num\">4242</td>"));
        Assert.That(html, Does.Contain("<a href=\"/services/db\">db</a></td><td data-field=\"state\" class=\"stopped\">stopped</td>"));
        Assert.That(html, Does.Contain("<code>0123456</code> add web &amp; db"));
    }

    [Test]
    public async Task A_service_page_shows_the_log_tail_escaped()
    {
        await WriteLogAsync("web", "first <b>line</b>\nsecond\n");

        using var client = new HttpClient();
        var html = await client.GetStringAsync(Url("/services/web"));

        Assert.That(html, Does.Match(@"<div>\[[0-9: -]+\] first &lt;b&gt;line&lt;/b&gt;</div><div>\[[0-9: -]+\] second</div></div>"));
        Assert.That(html, Does.Contain("<span data-field=\"pid\">4242</span>"));
    }

    [TestCase("/services/nope", "There is no service named nope.")]
    [TestCase("/services/nope/logs/stream", "There is no service named nope.")]
    [TestCase("/events/stream?service=nope", "There is no service named nope.")]
    [TestCase("/services/", "There is no page at /services/.")]
    [TestCase("/services/web/", "There is no page at /services/web/.")]
    [TestCase("/services/web/logs", "There is no page at /services/web/logs.")]
    [TestCase("/services/..%2Fetc", "There is no page at /services/../etc.")]
    [TestCase("/metrics", "There is no page at /metrics.")]
    [TestCase("/favicon.ico", "There is no page at /favicon.ico.")]
    public async Task Unknown_services_and_paths_are_a_404_page(string path, string message)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync(Url(path));
        var html = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(html, Does.Contain("<h1>Not found</h1>").And.Contain(WebPages.Encode(message)));
    }

    [Test]
    public async Task Other_methods_are_405_HEAD_has_no_body_and_a_foreign_host_is_refused()
    {
        using var client = new HttpClient();
        using var post = await client.PostAsync(Url("/"), new StringContent("x"));
        using var delete = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, Url("/services/web")));
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url("/services/web")));
        using var rebound = new HttpRequestMessage(HttpMethod.Get, Url("/"));
        rebound.Headers.Host = "attacker.example";
        using var foreign = await client.SendAsync(rebound);
        using var local = new HttpRequestMessage(HttpMethod.Get, Url("/"));
        local.Headers.Host = "localhost:1234";
        using var localhost = await client.SendAsync(local);

        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
        Assert.That(post.Content.Headers.Allow, Is.EquivalentTo(new[] { "GET", "HEAD" }));
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
        Assert.That(head.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(head.Content.Headers.ContentLength, Is.GreaterThan(0));
        Assert.That(await head.Content.ReadAsByteArrayAsync(), Is.Empty);
        Assert.That(foreign.StatusCode, Is.EqualTo(HttpStatusCode.MisdirectedRequest), "DNS rebinding: another site's name for 127.0.0.1");
        Assert.That(localhost.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task The_log_stream_sends_the_tail_then_each_new_line_as_one_data_field_with_heartbeats_between()
    {
        await WriteLogAsync("web", "old one\nold two\n");
        await using var stream = await SseClient.OpenAsync(_server.LocalEndPoint!, "/services/web/logs/stream?tail=1");

        var head = await stream.ReadUntilAsync("old two\n\n");
        Assert.That(head, Does.StartWith("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"));
        Assert.That(head, Does.Contain("\r\n\r\n: gitproc\nretry: 2000\n\n"));
        Assert.That(head, Does.Not.Contain("old one"), "tail=1");
        Assert.That(head, Does.Not.Contain("Content-Length"));

        // A carriage return would end the data field and start another field ("event: evil") in the browser.
        await WriteLogAsync("web", "new <line> one\rid: 666\revent: evil\n");
        var more = await stream.ReadUntilAsync("evil\n\n");
        Assert.That(more, Does.Match(@"(?s)^(:\n\n)*data: \[[0-9: -]+\] new <line> one id: 666 event: evil\n\n$"), "one data field, nothing else");

        var quiet = await stream.ReadUntilAsync(":\n\n:\n\n");
        Assert.That(quiet, Is.EqualTo(":\n\n:\n\n"), "heartbeat comments while nothing is written");
    }

    [Test]
    public async Task The_event_stream_sends_each_event_as_json_with_its_sequence_as_id_filtered_by_service()
    {
        await using var stream = await SseClient.OpenAsync(_server.LocalEndPoint!, "/events/stream?service=web");
        await stream.ReadUntilAsync("retry: 2000\n\n");
        await Eventually.TrueAsync(() => _events.SubscriberCount == 1, "the stream subscribed");

        _events.Publish(new GitProcEvent { Type = EventTypes.ServiceRecord, Service = "db", From = "running", To = "stopped" });
        _events.Publish(new GitProcEvent { Type = EventTypes.ServiceRecord, Service = "web", From = "running", To = "failed", Pid = null, RestartCount = 3 });

        var text = await stream.ReadUntilAsync("\n\n");
        Assert.That(text, Does.Match("^id: 2\ndata: {\"seq\":2,.*\"type\":\"service.state\",\"service\":\"web\",\"from\":\"running\",\"to\":\"failed\",.*\"restart_count\":3}\n\n$"));
    }

    [Test]
    public async Task A_client_that_goes_away_mid_stream_is_cleaned_up_its_subscription_and_connection_released()
    {
        await WriteLogAsync("web", "x\n");
        var logStream = await SseClient.OpenAsync(_server.LocalEndPoint!, "/services/web/logs/stream?tail=5");
        var eventStream = await SseClient.OpenAsync(_server.LocalEndPoint!, "/events/stream");
        await logStream.ReadUntilAsync("x\n\n");
        await eventStream.ReadUntilAsync("retry: 2000\n\n");
        await Eventually.TrueAsync(() => _events.SubscriberCount == 1 && _server.Endpoint!.OpenConnections == 2, "both streams are open");

        await logStream.DisposeAsync();
        await eventStream.DisposeAsync();

        await Eventually.TrueAsync(() => _server.Endpoint!.OpenConnections == 0, "both connections are closed");
        Assert.That(_events.SubscriberCount, Is.Zero, "the event subscription was disposed");

        // And the log keeps being written, and served, without them.
        await WriteLogAsync("web", "after\n");
        using var client = new HttpClient();
        Assert.That(await client.GetStringAsync(Url("/services/web")), Does.Contain("after</div>"));
    }

    [Test]
    public async Task Stopping_the_server_ends_open_streams()
    {
        await using var stream = await SseClient.OpenAsync(_server.LocalEndPoint!, "/services/web/logs/stream");
        await stream.ReadUntilAsync("retry: 2000\n\n");

        var stopping = _server.DisposeAsync().AsTask();
        Assert.That(await stream.ReadToEndAsync(), Does.Not.Contain("data:"), "the stream ends (no hang)");
        await stopping;
        Assert.That(_server.Endpoint!.OpenConnections, Is.Zero);
    }

    /// <summary>A raw HTTP client of one event stream, reading its bytes as they come.</summary>
    private sealed class SseClient : IAsyncDisposable
    {
        private readonly Socket _socket;
        private readonly StringBuilder _unread = new();
        private readonly byte[] _buffer = new byte[8192];

        private SseClient(Socket socket) => _socket = socket;

        public static async Task<SseClient> OpenAsync(IPEndPoint endPoint, string path)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(endPoint);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"));
            return new SseClient(socket);
        }

        /// <summary>What arrived up to and including <paramref name="end"/>; the rest stays for the next read.</summary>
        public async Task<string> ReadUntilAsync(string end)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                var text = _unread.ToString();
                var at = text.IndexOf(end, StringComparison.Ordinal);
                if (at >= 0)
                {
                    _unread.Remove(0, at + end.Length);
                    return text[..(at + end.Length)];
                }

                var read = await _socket.ReceiveAsync(_buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    Assert.Fail($"The stream ended before '{end}'; it sent:\n{text}");
                }

                _unread.Append(Encoding.UTF8.GetString(_buffer, 0, read));
            }
        }

        public async Task<string> ReadToEndAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            int read;
            while ((read = await _socket.ReceiveAsync(_buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                _unread.Append(Encoding.UTF8.GetString(_buffer, 0, read));
            }

            return _unread.ToString();
        }

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
