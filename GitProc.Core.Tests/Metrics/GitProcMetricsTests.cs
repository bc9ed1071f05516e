using System.Diagnostics.Metrics;
using System.Runtime.Versioning;
using System.Text;
using GitProc.Core.Tests.Supervision;
using GitProc.Core.Tests.TestSupport;
using GitProc.Metrics;
using GitProc.Processes;
using GitProc.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests.Metrics;

/// <summary>
/// The instruments as an embedding application's metrics pipeline sees them: a real supervisor with real processes,
/// cgroups and HTTP checks, made by the container whose <see cref="IMeterFactory"/> the exporter listens to.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class GitProcMetricsTests
{
    private SupervisorHarness _harness = null!;
    private ServiceProvider _meters = null!;
    private PrometheusExporter _exporter = null!;

    [SetUp]
    public void SetUp()
    {
        _harness = new SupervisorHarness();
        _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _exporter = new PrometheusExporter(_meters.GetRequiredService<IMeterFactory>());
    }

    [TearDown]
    public async Task TearDown()
    {
        await _harness.DisposeAsync();
        _exporter.Dispose();
        await _meters.DisposeAsync();
        Assert.That(_harness.LeftAfterDispose, Is.Empty, "processes of the test survived the supervisor's disposal");
        Assert.That(_harness.CgroupDirectories(), Is.Empty, "cgroups of the test were left behind");
    }

    private ISupervisor CreateSupervisor(bool cgroups = false) =>
        _harness.CreateSupervisor(cgroups: cgroups, configure: s => s.AddSingleton(_meters.GetRequiredService<IMeterFactory>()));

    private async Task<Scrape> ScrapeAsync() => new(Encoding.UTF8.GetString(await _exporter.CollectAsync()));

    [Test]
    public async Task A_killed_service_counts_an_exit_by_signal_a_restart_and_two_starts_and_is_up_again()
    {
        var sleeper = _harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\nRestart=always\nRestartSec=100ms\n")]);
        var before = await ScrapeAsync();
        Assert.That(before["gitproc_service_up{service=\"web\"}"], Is.EqualTo(1), before.ToString);
        Assert.That(before["gitproc_service_starts_total{service=\"web\"}"], Is.EqualTo(1), before.ToString);
        Assert.That(before["gitproc_service_restarts_total{service=\"web\"}"], Is.Zero, before.ToString);
        Assert.That(before["gitproc_apply_duration_seconds_count"], Is.EqualTo(1), before.ToString);
        Assert.That(before["gitproc_service_state{service=\"web\",state=\"running\"}"], Is.EqualTo(1), before.ToString);
        Assert.That(before["gitproc_service_state{service=\"web\",state=\"failed\"}"], Is.Zero, before.ToString);

        var pid = supervisor.GetStatus("web").Pid!.Value;
        _ = Interop.Processes.Kill(pid, 9);
        await SupervisorHarness.WaitForAsync(supervisor, "web", s => s.RestartCount == 1 && s.Pid is { } p && p != pid);

        var after = await ScrapeAsync();
        Assert.That(after["gitproc_service_exits_total{reason=\"signal\",service=\"web\"}"], Is.EqualTo(1), after.ToString);
        Assert.That(after["gitproc_service_starts_total{service=\"web\"}"], Is.EqualTo(2), after.ToString);
        Assert.That(after["gitproc_service_restarts_total{service=\"web\"}"], Is.EqualTo(1), after.ToString);
        Assert.That(after["gitproc_service_start_duration_seconds_count{service=\"web\"}"], Is.EqualTo(2), after.ToString);
        Assert.That(after["gitproc_service_last_exit_code{service=\"web\"}"], Is.EqualTo(137), after.ToString);
        Assert.That(after["gitproc_service_up{service=\"web\"}"], Is.EqualTo(1), after.ToString);
    }

    [Test]
    public async Task An_exit_code_is_counted_as_such_and_an_operator_stop_is_no_exit()
    {
        await using var supervisor = CreateSupervisor();
        var failing = _harness.Script("failing.sh", "exit 3");
        var sleeper = _harness.Script("sleeper.sh", "exec sleep 300");
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("job", $"[Service]\nExecStart={failing}\n"),
            SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\n"),
        ]);
        await SupervisorHarness.WaitForAsync(supervisor, "job", s => s.SubState == "failed");
        await supervisor.StopAsync("web");

        var scrape = await ScrapeAsync();
        Assert.That(scrape["gitproc_service_exits_total{reason=\"exit-code\",service=\"job\"}"], Is.EqualTo(1), scrape.ToString);
        Assert.That(scrape.SeriesOf("gitproc_service_exits_total").Where(s => s.Contains("web", StringComparison.Ordinal)), Is.Empty, scrape.ToString);
        Assert.That(scrape["gitproc_service_up{service=\"web\"}"], Is.Zero, scrape.ToString);
        Assert.That(scrape["gitproc_service_state{service=\"web\",state=\"stopped\"}"], Is.EqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_service_state{service=\"job\",state=\"failed\"}"], Is.EqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_service_last_exit_code{service=\"job\"}"], Is.EqualTo(3), scrape.ToString);
    }

    [Test]
    public async Task An_OOM_kill_is_counted_as_oom_kill_and_the_cgroup_usage_is_reported()
    {
        RequireRoot();
        await using var supervisor = CreateSupervisor(cgroups: true);
        var sleeper = _harness.Script("sleeper.sh", "exec sleep 300");
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("hog", "[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/usr/bin/tail /dev/zero\nMemoryMax=32M\nRestart=on-failure\nRestartSec=500ms\n"),
            SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\n"),
        ]);
        await SupervisorHarness.WaitForAsync(supervisor, "hog", s => s.RestartCount >= 1, seconds: 30);

        var scrape = await ScrapeAsync();
        Assert.That(scrape["gitproc_service_exits_total{reason=\"oom-kill\",service=\"hog\"}"], Is.GreaterThanOrEqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_service_memory_bytes{service=\"web\"}"], Is.GreaterThan(0), scrape.ToString);
        Assert.That(scrape["gitproc_service_tasks{service=\"web\"}"], Is.EqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_service_cpu_seconds_total{service=\"web\"}"], Is.GreaterThanOrEqualTo(0), scrape.ToString);
    }

    [Test]
    public async Task Health_checks_are_counted_by_result_with_their_latency_and_an_unhealthy_restart_is_an_exit_of_its_own()
    {
        await using var server = new TestHttpServer();
        server.Respond("/ok", 200);
        server.Respond("/bad", 500);
        var sleeper = _harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = CreateSupervisor();
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("good", $"[Service]\nExecStart={sleeper}\nHealthCheckURL={server.Url("/ok")}\nHealthCheckInterval=200ms\n"),
            SupervisorHarness.Unit("sick", $"[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart={sleeper}\nHealthCheckURL={server.Url("/bad")}\nHealthCheckInterval=200ms\nHealthCheckRetries=1\nRestartSec=100ms\n"),
        ]);
        await SupervisorHarness.WaitForAsync(supervisor, "sick", s => s.RestartCount >= 1);
        await SupervisorHarness.WaitForAsync(supervisor, "good", s => s.Health?.State == GitProc.Health.HealthState.Healthy);

        var scrape = await ScrapeAsync();
        Assert.That(scrape["gitproc_health_checks_total{result=\"success\",service=\"good\"}"], Is.GreaterThanOrEqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_health_checks_total{result=\"failure\",service=\"sick\"}"], Is.GreaterThanOrEqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_health_check_duration_seconds_count{service=\"good\"}"], Is.GreaterThanOrEqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_service_exits_total{reason=\"unhealthy\",service=\"sick\"}"], Is.GreaterThanOrEqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_service_healthy{service=\"good\"}"], Is.EqualTo(1), scrape.ToString);
        Assert.That(scrape["gitproc_service_up{service=\"good\"}"], Is.EqualTo(1), scrape.ToString);
    }

    [TestCase(0, null, false, false, false, "success")]
    [TestCase(3, null, false, false, false, "exit-code")]
    [TestCase(null, 15, false, false, false, "signal")]
    [TestCase(null, 9, true, false, false, "oom-kill")]
    [TestCase(137, null, true, false, false, "oom-kill")]
    [TestCase(null, 9, false, true, false, "timeout")]
    [TestCase(null, 15, false, false, true, "unhealthy")]
    [TestCase(null, null, false, false, false, "unknown")]
    public void Exit_reasons_are_systemd_s_result_words(int? code, int? signal, bool oom, bool timedOut, bool unhealthy, string reason) =>
        Assert.That(GitProcMetrics.ExitReason(new ProcessExit(code, signal, timedOut) { OomKilled = oom }, unhealthy), Is.EqualTo(reason));

    private static void RequireRoot()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: creates real cgroups");
        }
    }
}
