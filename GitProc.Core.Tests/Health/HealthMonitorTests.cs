using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using GitProc.Core.Tests.TestSupport;
using GitProc.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Health;

/// <summary>
/// The monitor against a real HTTP server on 127.0.0.1, on a fake clock: each check is fired by advancing the clock one
/// interval and recognised by the report's <see cref="HealthReport.LastCheck"/> taking the new time, so no test waits
/// for an interval to pass or sleeps to see that no check ran.
/// </summary>
[CancelAfter(60_000)]
public sealed class HealthMonitorTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private FakeTimeProvider _time = null!;

    [SetUp]
    public void SetUp() => _time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    [Test]
    public async Task A_200_answer_makes_the_service_healthy()
    {
        await using var server = new TestHttpServer();
        await using var monitor = CreateMonitor(_time);

        monitor.Watch(Check("web", server.Url("/health")));
        var report = await TickAsync(monitor, "web");

        Assert.Multiple(() =>
        {
            Assert.That(report.State, Is.EqualTo(HealthState.Healthy));
            Assert.That(report.LastSuccess, Is.EqualTo(_time.GetUtcNow()));
            Assert.That(report.LastError, Is.Null);
            Assert.That(report.ConsecutiveFailures, Is.Zero);
            Assert.That(monitor.WaitHealthyAsync("web").IsCompletedSuccessfully, Is.True, "a healthy service needs no waiting");
        });
    }

    [Test]
    public async Task A_redirect_is_healthy_and_is_not_followed()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 302);
        server.Respond("/elsewhere", 500);
        await using var monitor = CreateMonitor(_time);

        monitor.Watch(Check("web", server.Url("/health")));
        for (var i = 0; i < 3; i++)
        {
            Assert.That((await TickAsync(monitor, "web")).State, Is.EqualTo(HealthState.Healthy));
        }

        Assert.That(server.Requests("/health"), Is.EqualTo(3));
        Assert.That(server.Requests("/elsewhere"), Is.Zero);
    }

    [Test]
    public async Task Failing_status_codes_make_the_service_unhealthy_after_exactly_Retries_failures()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 503);
        await using var monitor = CreateMonitor(_time);
        var events = Record(monitor);

        monitor.Watch(Check("web", server.Url("/health"), retries: 3));

        var first = await TickAsync(monitor, "web");
        var second = await TickAsync(monitor, "web");
        Assert.Multiple(() =>
        {
            Assert.That((first.State, first.ConsecutiveFailures), Is.EqualTo((HealthState.Unknown, 1)));
            Assert.That((second.State, second.ConsecutiveFailures), Is.EqualTo((HealthState.Unknown, 2)));
            Assert.That(second.LastError, Is.EqualTo("HTTP 503 Service Unavailable"));
            Assert.That(events, Is.Empty);
        });

        var third = await TickAsync(monitor, "web");
        await Eventually.TrueAsync(() => !events.IsEmpty, "HealthChanged was raised");

        Assert.Multiple(() =>
        {
            Assert.That((third.State, third.ConsecutiveFailures), Is.EqualTo((HealthState.Unhealthy, 3)));
            Assert.That(third.LastErrorTime, Is.EqualTo(_time.GetUtcNow()));
            Assert.That(server.Requests("/health"), Is.EqualTo(3));
            Assert.That(events.Select(e => (e.Service, e.OldState, e.NewState)), Is.EqualTo(new[] { ("web", HealthState.Unknown, HealthState.Unhealthy) }));
        });
    }

    [Test]
    public async Task A_500_answer_is_reported_with_its_status()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 500);
        await using var monitor = CreateMonitor(_time);

        monitor.Watch(Check("web", server.Url("/health"), retries: 2));
        await TickAsync(monitor, "web");
        var report = await TickAsync(monitor, "web");

        Assert.That((report.State, report.ConsecutiveFailures), Is.EqualTo((HealthState.Unhealthy, 2)));
        Assert.That(report.LastError, Is.EqualTo("HTTP 500 Internal Server Error"));
    }

    [Test]
    public async Task A_refused_connection_is_a_failure_that_says_so()
    {
        await using var monitor = CreateMonitor(_time);

        monitor.Watch(Check("web", new Uri($"http://127.0.0.1:{UnusedPort()}/health")));
        var report = await TickAsync(monitor, "web");

        Assert.That((report.State, report.LastError), Is.EqualTo((HealthState.Unhealthy, "connection refused")));
    }

    [Test]
    public async Task A_closed_connection_is_a_failure_that_says_so()
    {
        await using var server = new TestHttpServer();
        server.CloseConnection("/health");
        await using var monitor = CreateMonitor(_time);

        monitor.Watch(Check("web", server.Url("/health")));
        var report = await TickAsync(monitor, "web");

        Assert.That((report.State, report.LastError), Is.EqualTo((HealthState.Unhealthy, "connection closed without a response")));
    }

    [Test]
    public async Task An_answer_slower_than_the_timeout_is_a_timed_out_failure()
    {
        await using var server = new TestHttpServer();
        server.Hang("/health");
        await using var monitor = CreateMonitor(_time);

        monitor.Watch(Check("web", server.Url("/health"), timeout: TimeSpan.FromMilliseconds(300)));
        _time.Advance(Interval);
        await Eventually.TrueAsync(() => server.Requests("/health") == 1, "the check waits for its answer");
        Assert.That(monitor.GetReport("web")!.LastCheck, Is.Null, "no verdict before the timeout");

        // The timeout runs on the same clock: 300 ms later the check gives up.
        var report = await TickAsync(monitor, "web", TimeSpan.FromMilliseconds(300));

        Assert.That((report.State, report.LastError), Is.EqualTo((HealthState.Unhealthy, "timed out after 300ms")));
    }

    [Test]
    public async Task A_hanging_endpoint_does_not_delay_the_checks_of_another_service()
    {
        await using var server = new TestHttpServer();
        server.Hang("/a");
        await using var monitor = CreateMonitor(_time);

        monitor.Watch(Check("a", server.Url("/a"), timeout: TimeSpan.FromMinutes(5)));
        monitor.Watch(Check("b", server.Url("/b")));
        for (var i = 0; i < 10; i++)
        {
            await TickAsync(monitor, "b");
        }

        await Eventually.TrueAsync(() => server.Requests("/a") == 1, "A's first check is hanging");
        Assert.Multiple(() =>
        {
            Assert.That(server.Requests("/b"), Is.EqualTo(10), "B was checked at every interval");
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
        await using var monitor = CreateMonitor(_time);

        monitor.Watch(Check("web", server.Url("/health"), retries: 2, startPeriod: TimeSpan.FromSeconds(10)));

        for (var second = 1; second <= 9; second++)
        {
            var report = await TickAsync(monitor, "web");
            Assert.That((report.State, report.ConsecutiveFailures), Is.EqualTo((HealthState.Unknown, 0)), $"after {second} s");
            Assert.That(report.LastError, Is.EqualTo("HTTP 500 Internal Server Error"));
        }

        var tenth = await TickAsync(monitor, "web");
        var eleventh = await TickAsync(monitor, "web");

        Assert.That((tenth.State, tenth.ConsecutiveFailures), Is.EqualTo((HealthState.Unknown, 1)));
        Assert.That((eleventh.State, eleventh.ConsecutiveFailures), Is.EqualTo((HealthState.Unhealthy, 2)));
    }

    [Test]
    public async Task A_success_during_the_start_period_makes_the_service_healthy_and_ends_the_start_period()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 500);
        await using var monitor = CreateMonitor(_time);

        monitor.Watch(Check("web", server.Url("/health"), retries: 2, startPeriod: TimeSpan.FromSeconds(60)));
        await TickAsync(monitor, "web");
        var starting = await TickAsync(monitor, "web");
        server.Respond("/health", 200);
        var healthy = await TickAsync(monitor, "web");
        server.Respond("/health", 500);
        var firstFailure = await TickAsync(monitor, "web");
        var secondFailure = await TickAsync(monitor, "web");

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
        await using var monitor = CreateMonitor(_time);
        var events = Record(monitor);

        monitor.Watch(new HealthCheck
        {
            Service = "web", Url = server.Url("/health"), Interval = TimeSpan.FromHours(1), Timeout = TimeSpan.FromSeconds(10),
            StartPeriod = TimeSpan.FromMinutes(5), StartInterval = Interval,
        });
        var first = await TickAsync(monitor, "web");
        Assert.That(first.State, Is.EqualTo(HealthState.Healthy));

        // The loop switches to the hour-long interval before it reports the change: once the event is seen, the clock may move.
        await Eventually.TrueAsync(() => events.Count == 1, "HealthChanged was raised");
        for (var minute = 1; minute < 60; minute++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        var hourly = await TickAsync(monitor, "web", TimeSpan.FromMinutes(1));

        // Any check at the start interval in that hour would have run, one after the other, before this one.
        Assert.That(hourly.LastCheck, Is.EqualTo(first.LastCheck + TimeSpan.FromHours(1)));
        Assert.That(server.Requests("/health"), Is.EqualTo(2), "after the first success the hour-long interval applies");
    }

    [Test]
    public async Task An_unhealthy_service_becomes_healthy_again_when_checks_succeed()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 503);
        await using var monitor = CreateMonitor(_time);
        var events = Record(monitor);

        monitor.Watch(Check("web", server.Url("/health")));
        Assert.That((await TickAsync(monitor, "web")).State, Is.EqualTo(HealthState.Unhealthy));
        server.Respond("/health", 200);
        Assert.That((await TickAsync(monitor, "web")).State, Is.EqualTo(HealthState.Healthy));
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
        await using var monitor = CreateMonitor(_time);
        monitor.Watch(Check("web", server.Url("/health")));
        Assert.That((await TickAsync(monitor, "web")).State, Is.EqualTo(HealthState.Unhealthy));

        using var cancellation = new CancellationTokenSource();
        var wait = monitor.WaitHealthyAsync("web", cancellation.Token);
        for (var i = 0; i < 3; i++)
        {
            Assert.That((await TickAsync(monitor, "web")).State, Is.EqualTo(HealthState.Unhealthy));
        }

        Assert.That(wait.IsCompleted, Is.False, "three more failed checks later");
        await cancellation.CancelAsync();
        Assert.That(async () => await wait, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task WaitHealthyAsync_called_before_Watch_completes_once_the_service_is_healthy()
    {
        await using var server = new TestHttpServer();
        await using var monitor = CreateMonitor(_time);

        var wait = monitor.WaitHealthyAsync("web");
        Assert.That(wait.IsCompleted, Is.False);
        monitor.Watch(Check("web", server.Url("/health")));
        await TickAsync(monitor, "web");
        var report = await wait.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.That(report.State, Is.EqualTo(HealthState.Healthy));
    }

    [Test]
    public async Task WaitHealthyAsync_keeps_waiting_across_Watch_calls_until_one_finds_the_service_healthy()
    {
        await using var server = new TestHttpServer();
        server.Respond("/api", 503);
        await using var monitor = CreateMonitor(_time);
        var dependentMayStart = monitor.WaitHealthyAsync("api");

        // Each Watch is what the supervisor does after a start: two starts that do not help, then one that does.
        for (var start = 1; start <= 2; start++)
        {
            monitor.Watch(Check("api", server.Url("/api")));
            Assert.That((await TickAsync(monitor, "api")).State, Is.EqualTo(HealthState.Unhealthy), $"start {start}");
        }

        Assert.That(dependentMayStart.IsCompleted, Is.False, "the dependent waits while the dependency is unhealthy");
        server.Respond("/api", 200);
        monitor.Watch(Check("api", server.Url("/api")));
        await TickAsync(monitor, "api");

        var report = await dependentMayStart.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.That((report.State, report.LastCheck), Is.EqualTo((HealthState.Healthy, _time.GetUtcNow())));
    }

    [Test]
    public async Task Watch_replaces_the_previous_check_and_resets_the_state()
    {
        await using var server = new TestHttpServer();
        server.Respond("/new", 503);
        await using var monitor = CreateMonitor(_time);
        monitor.Watch(Check("web", server.Url("/old")));
        Assert.That((await TickAsync(monitor, "web")).State, Is.EqualTo(HealthState.Healthy));

        monitor.Watch(Check("web", server.Url("/new"), retries: 1000));
        var reset = monitor.GetReport("web")!;
        for (var i = 0; i < 5; i++)
        {
            await TickAsync(monitor, "web");
        }

        // The old loop was between checks when it was stopped, and a stopped loop takes no further tick.
        Assert.Multiple(() =>
        {
            Assert.That(reset, Is.EqualTo(new HealthReport { Service = "web", State = HealthState.Unknown }));
            Assert.That(server.Requests("/old"), Is.EqualTo(1), "the old check stopped");
            Assert.That(server.Requests("/new"), Is.EqualTo(5));
            Assert.That(monitor.GetReport("web")!.State, Is.EqualTo(HealthState.Unknown));
        });
    }

    [Test]
    public async Task Unwatch_stops_checking_and_forgets_the_report()
    {
        await using var server = new TestHttpServer();
        await using var monitor = CreateMonitor(_time);
        monitor.Watch(Check("web", server.Url("/health")));
        await TickAsync(monitor, "web");

        monitor.Unwatch("web");

        // A witness on the same clock: its checks show that the intervals in which web would have been checked passed.
        monitor.Watch(Check("witness", server.Url("/witness")));
        for (var i = 0; i < 3; i++)
        {
            await TickAsync(monitor, "witness");
        }

        Assert.That(server.Requests("/health"), Is.EqualTo(1));
        Assert.That(monitor.GetReport("web"), Is.Null);
        Assert.That(() => monitor.Unwatch("web"), Throws.Nothing, "unwatching twice is harmless");
    }

    [Test]
    public async Task Disposing_stops_every_check_and_cancels_waiters()
    {
        await using var server = new TestHttpServer();
        server.Hang("/hang");
        var monitor = CreateMonitor(_time);
        monitor.Watch(Check("a", server.Url("/a")));
        monitor.Watch(Check("hang", server.Url("/hang"), timeout: TimeSpan.FromMinutes(5)));
        var wait = monitor.WaitHealthyAsync("hang");
        await TickAsync(monitor, "a");
        await Eventually.TrueAsync(() => server.Requests("/hang") == 1, "the hanging check is in flight");

        // Disposing waits for every loop to end, the one stuck in a check included: after it, nothing can check.
        await monitor.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        var checks = server.TotalRequests;
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Multiple(() =>
        {
            Assert.That(server.TotalRequests, Is.EqualTo(checks));
            Assert.That(async () => await wait, Throws.InstanceOf<OperationCanceledException>());
            Assert.That(() => monitor.Watch(Check("a", server.Url("/a"))), Throws.TypeOf<ObjectDisposedException>());
        });
    }

    [Test]
    public async Task A_throwing_HealthChanged_handler_does_not_stop_the_checks()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 503);
        await using var monitor = CreateMonitor(_time);
        monitor.HealthChanged += (_, _) => throw new InvalidOperationException("handler bug");

        monitor.Watch(Check("web", server.Url("/health")));
        Assert.That((await TickAsync(monitor, "web")).State, Is.EqualTo(HealthState.Unhealthy));
        server.Respond("/health", 200);

        Assert.That((await TickAsync(monitor, "web")).State, Is.EqualTo(HealthState.Healthy));
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
        => new(Options.Create(new GitProcOptions()), time ?? TimeProvider.System);

    /// <summary>A check every <see cref="Interval"/>, with no start period unless given.</summary>
    private static HealthCheck Check(string service, Uri url, int retries = 1, TimeSpan? timeout = null, TimeSpan? startPeriod = null) => new()
    {
        Service = service,
        Url = url,
        Interval = Interval,
        StartInterval = Interval,
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
        Retries = retries,
        StartPeriod = startPeriod ?? TimeSpan.Zero,
    };

    private static ConcurrentQueue<HealthChangedEventArgs> Record(IHealthMonitor monitor)
    {
        var events = new ConcurrentQueue<HealthChangedEventArgs>();
        monitor.HealthChanged += (_, e) => events.Enqueue(e);
        return events;
    }

    /// <summary>
    /// Advances the fake clock (by one <see cref="Interval"/> unless told) and waits for the check that fires: its
    /// completion is recognised by <see cref="HealthReport.LastCheck"/> taking the new time.
    /// </summary>
    private async Task<HealthReport> TickAsync(IHealthMonitor monitor, string service, TimeSpan? by = null)
    {
        _time.Advance(by ?? Interval);
        var now = _time.GetUtcNow();
        await Eventually.TrueAsync(() => monitor.GetReport(service)!.LastCheck == now, $"the check at {now:HH:mm:ss.fff} completed");
        return monitor.GetReport(service)!;
    }

    private static int UnusedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
