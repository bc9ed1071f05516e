using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using GitProc.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Health;

[CancelAfter(60_000)]
public sealed class HealthMonitorTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(50);

    [Test]
    public async Task A_200_answer_makes_the_service_healthy()
    {
        await using var server = new TestHttpServer();
        await using var monitor = CreateMonitor();

        monitor.Watch(RealTimeCheck("web", server.Url("/health")));
        var report = await monitor.WaitHealthyAsync("web").WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Multiple(() =>
        {
            Assert.That(report.State, Is.EqualTo(HealthState.Healthy));
            Assert.That(report.LastSuccess, Is.Not.Null);
            Assert.That(report.LastError, Is.Null);
            Assert.That(report.ConsecutiveFailures, Is.Zero);
            Assert.That(monitor.GetReport("web")!.State, Is.EqualTo(HealthState.Healthy));
        });
    }

    [Test]
    public async Task A_redirect_is_healthy_and_is_not_followed()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 302);
        server.Respond("/elsewhere", 500);
        await using var monitor = CreateMonitor();

        monitor.Watch(RealTimeCheck("web", server.Url("/health")));
        await monitor.WaitHealthyAsync("web").WaitAsync(TimeSpan.FromSeconds(15));
        await Eventually.TrueAsync(() => server.Requests("/health") >= 3, "a few more checks ran");

        Assert.That(server.Requests("/elsewhere"), Is.Zero);
        Assert.That(monitor.GetReport("web")!.State, Is.EqualTo(HealthState.Healthy));
    }

    [Test]
    public async Task Failing_status_codes_make_the_service_unhealthy_after_exactly_Retries_failures()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 503);
        var time = new FakeTimeProvider();
        await using var monitor = CreateMonitor(time);
        var events = Record(monitor);

        monitor.Watch(new HealthCheck
        {
            Service = "web", Url = server.Url("/health"), Interval = TimeSpan.FromSeconds(1), Retries = 3,
            StartPeriod = TimeSpan.Zero, StartInterval = TimeSpan.FromSeconds(1),
        });

        var first = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));
        var second = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));
        Assert.Multiple(() =>
        {
            Assert.That((first.State, first.ConsecutiveFailures), Is.EqualTo((HealthState.Unknown, 1)));
            Assert.That((second.State, second.ConsecutiveFailures), Is.EqualTo((HealthState.Unknown, 2)));
            Assert.That(second.LastError, Is.EqualTo("HTTP 503 Service Unavailable"));
            Assert.That(events, Is.Empty);
        });

        var third = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => !events.IsEmpty, "HealthChanged was raised");

        Assert.Multiple(() =>
        {
            Assert.That((third.State, third.ConsecutiveFailures), Is.EqualTo((HealthState.Unhealthy, 3)));
            Assert.That(third.LastErrorTime, Is.EqualTo(time.GetUtcNow()));
            Assert.That(server.Requests("/health"), Is.EqualTo(3));
            Assert.That(events.Select(e => (e.Service, e.OldState, e.NewState)), Is.EqualTo(new[] { ("web", HealthState.Unknown, HealthState.Unhealthy) }));
        });
    }

    [Test]
    public async Task A_500_answer_is_reported_with_its_status()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 500);
        await using var monitor = CreateMonitor();

        monitor.Watch(RealTimeCheck("web", server.Url("/health"), retries: 2));
        await Eventually.TrueAsync(() => monitor.GetReport("web")!.State == HealthState.Unhealthy, "the service is unhealthy");

        var report = monitor.GetReport("web")!;
        Assert.That(report.LastError, Is.EqualTo("HTTP 500 Internal Server Error"));
        Assert.That(report.ConsecutiveFailures, Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    public async Task A_refused_connection_is_a_failure_that_says_so()
    {
        await using var monitor = CreateMonitor();

        monitor.Watch(RealTimeCheck("web", new Uri($"http://127.0.0.1:{UnusedPort()}/health")));
        await Eventually.TrueAsync(() => monitor.GetReport("web")!.State == HealthState.Unhealthy, "the service is unhealthy");

        Assert.That(monitor.GetReport("web")!.LastError, Is.EqualTo("connection refused"));
    }

    [Test]
    public async Task A_closed_connection_is_a_failure_that_says_so()
    {
        await using var server = new TestHttpServer();
        server.CloseConnection("/health");
        await using var monitor = CreateMonitor();

        monitor.Watch(RealTimeCheck("web", server.Url("/health")));
        await Eventually.TrueAsync(() => monitor.GetReport("web")!.State == HealthState.Unhealthy, "the service is unhealthy");

        Assert.That(monitor.GetReport("web")!.LastError, Is.EqualTo("connection closed without a response"));
    }

    [Test]
    public async Task An_answer_slower_than_the_timeout_is_a_timed_out_failure()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 200, delay: TimeSpan.FromSeconds(30));
        await using var monitor = CreateMonitor();

        monitor.Watch(RealTimeCheck("web", server.Url("/health"), timeout: TimeSpan.FromMilliseconds(300)));
        await Eventually.TrueAsync(() => monitor.GetReport("web")!.State == HealthState.Unhealthy, "the service is unhealthy");

        Assert.That(monitor.GetReport("web")!.LastError, Is.EqualTo("timed out after 300ms"));
    }

    [Test]
    public async Task A_hanging_endpoint_does_not_delay_the_checks_of_another_service()
    {
        await using var server = new TestHttpServer();
        server.Hang("/a");
        await using var monitor = CreateMonitor();

        monitor.Watch(RealTimeCheck("a", server.Url("/a"), timeout: TimeSpan.FromMinutes(5)));
        monitor.Watch(RealTimeCheck("b", server.Url("/b")));
        await Eventually.TrueAsync(() => server.Requests("/a") == 1, "A's check is hanging");
        var before = server.Requests("/b");

        await Eventually.TrueAsync(() => server.Requests("/b") >= before + 10, "B is checked ten more times");

        Assert.Multiple(() =>
        {
            Assert.That(server.Requests("/a"), Is.EqualTo(1), "A's first check is still in flight");
            Assert.That(monitor.GetReport("a")!.LastCheck, Is.Null);
            Assert.That(monitor.GetReport("b")!.State, Is.EqualTo(HealthState.Healthy));
        });
    }

    [Test]
    public async Task Failures_during_the_start_period_do_not_count()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 500);
        var time = new FakeTimeProvider();
        await using var monitor = CreateMonitor(time);

        monitor.Watch(FakeTimeCheck("web", server.Url("/health"), retries: 2, startPeriod: TimeSpan.FromSeconds(10)));

        for (var second = 1; second <= 9; second++)
        {
            var report = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));
            Assert.That((report.State, report.ConsecutiveFailures), Is.EqualTo((HealthState.Unknown, 0)), $"after {second} s");
            Assert.That(report.LastError, Is.EqualTo("HTTP 500 Internal Server Error"));
        }

        var tenth = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));
        var eleventh = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));

        Assert.That((tenth.State, tenth.ConsecutiveFailures), Is.EqualTo((HealthState.Unknown, 1)));
        Assert.That((eleventh.State, eleventh.ConsecutiveFailures), Is.EqualTo((HealthState.Unhealthy, 2)));
    }

    [Test]
    public async Task A_success_during_the_start_period_makes_the_service_healthy_and_ends_the_start_period()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 500);
        var time = new FakeTimeProvider();
        await using var monitor = CreateMonitor(time);

        monitor.Watch(FakeTimeCheck("web", server.Url("/health"), retries: 2, startPeriod: TimeSpan.FromSeconds(60)));
        await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));
        var starting = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));
        server.Respond("/health", 200);
        var healthy = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));
        server.Respond("/health", 500);
        var firstFailure = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));
        var secondFailure = await TickAsync(time, monitor, "web", TimeSpan.FromSeconds(1));

        Assert.Multiple(() =>
        {
            Assert.That((starting.State, starting.ConsecutiveFailures), Is.EqualTo((HealthState.Unknown, 0)));
            Assert.That(healthy.State, Is.EqualTo(HealthState.Healthy));
            Assert.That((firstFailure.State, firstFailure.ConsecutiveFailures), Is.EqualTo((HealthState.Healthy, 1)));
            Assert.That((secondFailure.State, secondFailure.ConsecutiveFailures), Is.EqualTo((HealthState.Unhealthy, 2)));
        });
    }

    [Test]
    public async Task During_the_start_period_checks_run_at_the_start_interval_until_the_first_success()
    {
        await using var server = new TestHttpServer();
        await using var monitor = CreateMonitor();

        monitor.Watch(new HealthCheck
        {
            Service = "web", Url = server.Url("/health"), Interval = TimeSpan.FromHours(1), Timeout = TimeSpan.FromSeconds(10),
            StartPeriod = TimeSpan.FromMinutes(5), StartInterval = Fast,
        });
        await monitor.WaitHealthyAsync("web").WaitAsync(TimeSpan.FromSeconds(15));
        var checks = server.Requests("/health");
        await Task.Delay(500);

        Assert.That(server.Requests("/health"), Is.EqualTo(checks), "after the first success the hour-long interval applies");
    }

    [Test]
    public async Task An_unhealthy_service_becomes_healthy_again_when_checks_succeed()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 503);
        await using var monitor = CreateMonitor();
        var events = Record(monitor);

        monitor.Watch(RealTimeCheck("web", server.Url("/health")));
        await Eventually.TrueAsync(() => monitor.GetReport("web")!.State == HealthState.Unhealthy, "the service is unhealthy");
        server.Respond("/health", 200);
        await monitor.WaitHealthyAsync("web").WaitAsync(TimeSpan.FromSeconds(15));
        await Eventually.TrueAsync(() => events.Count == 2, "two changes were raised");

        Assert.That(
            events.Select(e => (e.Service, e.OldState, e.NewState)),
            Is.EqualTo(new[] { ("web", HealthState.Unknown, HealthState.Unhealthy), ("web", HealthState.Unhealthy, HealthState.Healthy) }));
        Assert.That(events.Last().Report.LastError, Is.EqualTo("HTTP 503 Service Unavailable"), "the last error is kept");
    }

    [Test]
    public async Task WaitHealthyAsync_stays_pending_while_the_service_is_unhealthy_until_cancelled()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 503);
        await using var monitor = CreateMonitor();
        monitor.Watch(RealTimeCheck("web", server.Url("/health")));
        await Eventually.TrueAsync(() => monitor.GetReport("web")!.State == HealthState.Unhealthy, "the service is unhealthy");

        using var cancellation = new CancellationTokenSource();
        var wait = monitor.WaitHealthyAsync("web", cancellation.Token);
        await Task.Delay(300);
        Assert.That(wait.IsCompleted, Is.False);

        await cancellation.CancelAsync();
        Assert.That(async () => await wait, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task WaitHealthyAsync_called_before_Watch_completes_once_the_service_is_healthy()
    {
        await using var server = new TestHttpServer();
        await using var monitor = CreateMonitor();

        var wait = monitor.WaitHealthyAsync("web");
        Assert.That(wait.IsCompleted, Is.False);
        monitor.Watch(RealTimeCheck("web", server.Url("/health")));
        var report = await wait.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.That(report.State, Is.EqualTo(HealthState.Healthy));
    }

    [Test]
    public async Task Watch_replaces_the_previous_check_and_resets_the_state()
    {
        await using var server = new TestHttpServer();
        server.Respond("/new", 503);
        await using var monitor = CreateMonitor();
        monitor.Watch(RealTimeCheck("web", server.Url("/old")));
        await monitor.WaitHealthyAsync("web").WaitAsync(TimeSpan.FromSeconds(15));

        monitor.Watch(RealTimeCheck("web", server.Url("/new"), retries: 1000));
        var reset = monitor.GetReport("web")!;
        await Task.Delay(200);
        var oldChecks = server.Requests("/old");
        await Eventually.TrueAsync(() => server.Requests("/new") >= 5, "the new check runs");

        Assert.Multiple(() =>
        {
            Assert.That(reset, Is.EqualTo(new HealthReport { Service = "web", State = HealthState.Unknown }));
            Assert.That(server.Requests("/old"), Is.EqualTo(oldChecks), "the old check stopped");
            Assert.That(monitor.GetReport("web")!.State, Is.EqualTo(HealthState.Unknown));
        });
    }

    [Test]
    public async Task Unwatch_stops_checking_and_forgets_the_report()
    {
        await using var server = new TestHttpServer();
        await using var monitor = CreateMonitor();
        monitor.Watch(RealTimeCheck("web", server.Url("/health")));
        await monitor.WaitHealthyAsync("web").WaitAsync(TimeSpan.FromSeconds(15));

        monitor.Unwatch("web");
        await Task.Delay(200);
        var checks = server.Requests("/health");
        await Task.Delay(500);

        Assert.That(server.Requests("/health"), Is.EqualTo(checks));
        Assert.That(monitor.GetReport("web"), Is.Null);
        Assert.That(() => monitor.Unwatch("web"), Throws.Nothing, "unwatching twice is harmless");
    }

    [Test]
    public async Task Disposing_stops_every_check_and_cancels_waiters()
    {
        await using var server = new TestHttpServer();
        server.Hang("/hang");
        var monitor = CreateMonitor();
        monitor.Watch(RealTimeCheck("a", server.Url("/a")));
        monitor.Watch(RealTimeCheck("hang", server.Url("/hang"), timeout: TimeSpan.FromMinutes(5)));
        var wait = monitor.WaitHealthyAsync("hang");
        await Eventually.TrueAsync(() => server.Requests("/a") >= 2 && server.Requests("/hang") == 1, "both are checked");

        await monitor.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        var checks = server.TotalRequests;
        await Task.Delay(500);

        Assert.Multiple(() =>
        {
            Assert.That(server.TotalRequests, Is.EqualTo(checks));
            Assert.That(async () => await wait, Throws.InstanceOf<OperationCanceledException>());
            Assert.That(() => monitor.Watch(RealTimeCheck("a", server.Url("/a"))), Throws.TypeOf<ObjectDisposedException>());
        });
    }

    [Test]
    public async Task A_throwing_HealthChanged_handler_does_not_stop_the_checks()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 503);
        await using var monitor = CreateMonitor();
        monitor.HealthChanged += (_, _) => throw new InvalidOperationException("handler bug");

        monitor.Watch(RealTimeCheck("web", server.Url("/health")));
        await Eventually.TrueAsync(() => monitor.GetReport("web")!.State == HealthState.Unhealthy, "the service is unhealthy");
        server.Respond("/health", 200);

        await monitor.WaitHealthyAsync("web").WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Test]
    public void Watch_rejects_a_url_that_is_not_http()
    {
        using var monitor = CreateMonitor();

        Assert.That(
            () => monitor.Watch(new HealthCheck { Service = "web", Url = new Uri("ftp://127.0.0.1/health") }),
            Throws.ArgumentException.With.Message.Contains("web").And.Message.Contains("ftp://127.0.0.1/health"));
    }

    [Test]
    public async Task AddGitProc_registers_the_health_monitor_as_a_singleton()
    {
        var services = new ServiceCollection().AddGitProc();
        await using var provider = services.BuildServiceProvider();

        var monitor = provider.GetRequiredService<IHealthMonitor>();

        Assert.That(monitor, Is.TypeOf<HealthMonitor>());
        Assert.That(provider.GetRequiredService<IHealthMonitor>(), Is.SameAs(monitor));
    }

    [Test]
    public async Task The_test_server_leaves_nothing_listening()
    {
        int port;
        await using (var server = new TestHttpServer())
        {
            port = server.Port;
        }

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.That(
            async () => await client.ConnectAsync(IPAddress.Loopback, port),
            Throws.InstanceOf<SocketException>().With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.ConnectionRefused));
    }

    internal static HealthMonitor CreateMonitor(TimeProvider? time = null)
        => new(Options.Create(new HealthOptions()), time ?? TimeProvider.System);

    internal static HealthCheck RealTimeCheck(string service, Uri url, int retries = 1, TimeSpan? timeout = null) => new()
    {
        Service = service,
        Url = url,
        Interval = Fast,
        StartInterval = Fast,
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
        Retries = retries,
        StartPeriod = TimeSpan.Zero,
    };

    private static HealthCheck FakeTimeCheck(string service, Uri url, int retries, TimeSpan startPeriod) => new()
    {
        Service = service,
        Url = url,
        Interval = TimeSpan.FromSeconds(1),
        StartInterval = TimeSpan.FromSeconds(1),
        Timeout = TimeSpan.FromSeconds(10),
        Retries = retries,
        StartPeriod = startPeriod,
    };

    private static ConcurrentQueue<HealthChangedEventArgs> Record(IHealthMonitor monitor)
    {
        var events = new ConcurrentQueue<HealthChangedEventArgs>();
        monitor.HealthChanged += (_, e) => events.Enqueue(e);
        return events;
    }

    /// <summary>
    /// Advances fake time by one interval and waits for the check that fires: its completion is recognised by
    /// <see cref="HealthReport.LastCheck"/> taking the new fake time.
    /// </summary>
    private static async Task<HealthReport> TickAsync(FakeTimeProvider time, IHealthMonitor monitor, string service, TimeSpan by)
    {
        time.Advance(by);
        var now = time.GetUtcNow();
        await Eventually.TrueAsync(() => monitor.GetReport(service)!.LastCheck == now, $"the check at {now:HH:mm:ss} completed");
        return monitor.GetReport(service)!;
    }

    private static int UnusedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
