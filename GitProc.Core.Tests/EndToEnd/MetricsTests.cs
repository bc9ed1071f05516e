using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The real daemon's <c>Metrics:Listen</c> endpoint scraped over real HTTP on 127.0.0.1 (CONTRACT §13): what it shows
/// follows what happens to services and commits.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class MetricsTests : SandboxFixture
{
    private int _port;

    [SetUp]
    public async Task SetUp()
    {
        _port = await Sandbox.WriteListenConfigAsync("Metrics", """ "Delivery": { "VerifyWindow": "00:00:02" } """);
    }

    private Task<Scrape> ScrapeAsync(CancellationToken token) => Scrape.FetchAsync(_port, token);

    /// <summary>Scrapes until <paramref name="condition"/> holds; fails after the sandbox's deadline with the last scrape.</summary>
    private async Task<Scrape> ScrapeUntilAsync(Func<Scrape, bool> condition, string what, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + GitProcSandbox.Deadline;
        while (true)
        {
            var scrape = await ScrapeAsync(token);
            if (condition(scrape))
            {
                return scrape;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}; the last scrape:\n{scrape}\n--- daemon output ---\n{Sandbox.DaemonOutput}");
            }

            await Task.Delay(100, token);
        }
    }

    [Test]
    public async Task A_killed_service_shows_its_exit_and_rising_restarts_and_a_rejected_commit_shows_the_host_off_the_tip(CancellationToken token)
    {
        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restart=always\nRestartSec=100ms"));
        Sandbox.WriteUnit("db", Sandbox.Unit("db"));
        var good = await Sandbox.CommitAsync("web and db", token);
        await Sandbox.StartDaemonAsync(token);
        var pids = await Sandbox.WaitRunningAsync(token, "web", "db");

        var before = await ScrapeUntilAsync(s => s[$"gitproc_commit_applied_info{{branch=\"main\",commit=\"{good}\"}}"] == 1, "the commit shows applied", token);
        Assert.That(before["gitproc_service_up{service=\"web\"}"], Is.EqualTo(1), before.ToString);
        Assert.That(before["gitproc_service_up{service=\"db\"}"], Is.EqualTo(1), before.ToString);
        Assert.That(before["gitproc_service_restarts_total{service=\"web\"}"], Is.Zero, before.ToString);
        Assert.That(before["gitproc_service_starts_total{service=\"web\"}"], Is.EqualTo(1), "the daemon's first apply is counted too");
        Assert.That(before["gitproc_branch_tip_applied{branch=\"main\"}"], Is.EqualTo(1), before.ToString);
        Assert.That(before[$"gitproc_branch_tip_info{{branch=\"main\",commit=\"{good}\"}}"], Is.EqualTo(1), before.ToString);

        _ = Interop.Processes.Kill(pids["web"], 9);
        var after = await ScrapeUntilAsync(s => s["gitproc_service_restarts_total{service=\"web\"}"] == 1 && s["gitproc_service_up{service=\"web\"}"] == 1,
            "web's restart shows", token);
        Assert.That(after["gitproc_service_exits_total{reason=\"signal\",service=\"web\"}"], Is.EqualTo(1), after.ToString);
        Assert.That(after["gitproc_service_starts_total{service=\"web\"}"], Is.EqualTo(2), after.ToString);
        Assert.That(after["gitproc_service_last_exit_code{service=\"web\"}"], Is.EqualTo(137), after.ToString);
        Assert.That(after["gitproc_service_restarts_total{service=\"db\"}"], Is.Zero, "a service nobody touched");
        if (Environment.IsPrivilegedProcess)
        {
            Assert.That(after["gitproc_service_memory_bytes{service=\"db\"}"], Is.GreaterThan(0), after.ToString);
            Assert.That(after["gitproc_service_tasks{service=\"db\"}"], Is.EqualTo(2), "sh and its sleep");
        }

        Sandbox.WriteUnit("api", "[Service]\nRestart=always\n");
        var bad = await Sandbox.CommitAsync("api without ExecStart", token);
        var rejected = await ScrapeUntilAsync(s => s[$"gitproc_commit_rejected_info{{branch=\"main\",commit=\"{bad}\",file=\"api.service\"}}"] == 1,
            "the rejected commit shows", token);
        Assert.That(rejected["gitproc_branch_tip_applied{branch=\"main\"}"], Is.Zero, rejected.ToString);
        Assert.That(rejected[$"gitproc_commit_applied_info{{branch=\"main\",commit=\"{good}\"}}"], Is.EqualTo(1), "the last good commit still runs");
        Assert.That(rejected["gitproc_commits_total{result=\"rejected\"}"], Is.EqualTo(1), rejected.ToString);
    }

    [Test]
    public async Task A_rolled_back_commit_shows_with_the_commit_restored(CancellationToken token)
    {
        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restart=on-failure\nRestartSec=100ms"));
        var good = await Sandbox.CommitAsync("web", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "web");
        await ScrapeUntilAsync(s => s["gitproc_commits_total{result=\"applied\"}"] == 1, "the first commit is verified", token);

        Sandbox.WriteUnit("web", $"[Service]\nExecStart=/bin/sh -c 'echo {Sandbox.SleepSeconds}; exit 3'\nRestart=on-failure\nRestartSec=100ms\n");
        var bad = await Sandbox.CommitAsync("break web", token);
        var scrape = await ScrapeUntilAsync(s => s[$"gitproc_commit_rolled_back_info{{branch=\"main\",commit=\"{bad}\",restored=\"{good}\"}}"] == 1,
            "the rollback shows", token);
        Assert.That(scrape["gitproc_commits_total{result=\"rolled_back\"}"], Is.EqualTo(1), scrape.ToString);
        Assert.That(scrape[$"gitproc_commit_applied_info{{branch=\"main\",commit=\"{good}\"}}"], Is.EqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_branch_tip_applied{branch=\"main\"}"], Is.Zero, scrape.ToString);
        Assert.That(scrape["gitproc_service_exits_total{reason=\"exit-code\",service=\"web\"}"], Is.GreaterThanOrEqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_apply_duration_seconds_count"], Is.GreaterThanOrEqualTo(3), "the first apply, the bad one and the rollback");
    }

    [Test]
    public async Task After_an_in_place_upgrade_the_same_port_serves_again_and_the_restart_count_is_kept(CancellationToken token)
    {
        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restart=always\nRestartSec=100ms"));
        await Sandbox.CommitAsync("web", token);
        await Sandbox.StartDaemonAsync(token);
        var pids = await Sandbox.WaitRunningAsync(token, "web");
        _ = Interop.Processes.Kill(pids["web"], 9);
        await ScrapeUntilAsync(s => s["gitproc_service_restarts_total{service=\"web\"}"] == 1 && s["gitproc_service_up{service=\"web\"}"] == 1, "web restarted", token);
        var restarted = (await Sandbox.WaitRunningAsync(token, "web"))["web"];

        var reply = await Sandbox.RequestAsync("""{"command":"reexec"}""");
        Assert.That(reply.GetProperty("status").GetString(), Is.EqualTo("success"), reply.ToString);
        await Eventually.TrueAsync(() => Sandbox.DaemonOutput.Contains("Took over web", StringComparison.Ordinal), "the re-executed daemon takes web over");

        var deadline = DateTime.UtcNow + GitProcSandbox.Deadline;
        Scrape? scrape = null;
        while (scrape is null)
        {
            try
            {
                scrape = await ScrapeAsync(token);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, token);
            }
        }

        Assert.That(scrape["gitproc_service_restarts_total{service=\"web\"}"], Is.EqualTo(1), "the restart count comes from the state");
        Assert.That(scrape["gitproc_service_up{service=\"web\"}"], Is.EqualTo(1), scrape.ToString);
        Assert.That(scrape.SeriesOf("gitproc_service_starts_total"), Is.Empty, "a service taken over was not started, and counters begin again");
        Assert.That((await Sandbox.WaitRunningAsync(token, "web"))["web"], Is.EqualTo(restarted), "no restart");
    }

    [Test]
    public async Task A_taken_port_leaves_the_daemon_and_its_services_running_and_metrics_come_once_it_is_free(CancellationToken token)
    {
        var squatter = new TcpListener(IPAddress.Loopback, _port);
        squatter.Start();
        try
        {
            Sandbox.WriteUnit("web", Sandbox.Unit("web"));
            await Sandbox.CommitAsync("web", token);
            await Sandbox.StartDaemonAsync(token);
            await Sandbox.WaitRunningAsync(token, "web");
            // Said once the initial apply is done (the endpoint starts after it).
            await Eventually.TrueAsync(() => Sandbox.DaemonOutput.Contains($"Cannot serve metrics on 127.0.0.1:{_port}", StringComparison.Ordinal), "the daemon says why it serves no metrics");
            Assert.That((await Sandbox.ListAsync())["web"].Status, Is.EqualTo("running"), "the daemon still answers and its service runs");
        }
        finally
        {
            squatter.Stop();
        }

        // Tried again every 10 s.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                var scrape = await ScrapeAsync(token);
                Assert.That(scrape["gitproc_service_up{service=\"web\"}"], Is.EqualTo(1), scrape.ToString);
                break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, token);
            }
        }
    }

    [Test]
    public async Task Without_Metrics_Listen_nothing_listens()
    {
        await Sandbox.WriteConfigAsync();
        Sandbox.WriteUnit("web", Sandbox.Unit("web"));
        await Sandbox.CommitAsync("web", CancellationToken.None);
        await Sandbox.StartDaemonAsync(CancellationToken.None);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = Assert.ThrowsAsync<SocketException>(async () => await client.ConnectAsync(IPAddress.Loopback, _port));
        Assert.That(refused!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
        Assert.That(Sandbox.DaemonOutput, Does.Not.Contain("metrics"));
    }
}
