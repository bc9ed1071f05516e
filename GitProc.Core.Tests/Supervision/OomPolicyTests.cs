using System.Diagnostics.Metrics;
using System.Runtime.Versioning;
using System.Text;
using GitProc.Core.Tests.TestSupport;
using GitProc.Events;
using GitProc.Metrics;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Supervision;

/// <summary>
/// OOM kills with real cgroups and real memory hogs: an OOM kill of any process in the service's cgroup (a child, or the
/// main process) is the result oom-kill, and OOMPolicy= decides what the service does next (CONTRACT §11).
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(90_000)]
public sealed class OomPolicyTests
{
    // The issue's example: the kernel kills tail (it buffers 400 MB looking for a newline); the shell exits 137.
    private const string ChildHog = "head -c 400000000 /dev/zero | tail";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private SupervisorHarness _harness = null!;
    private ServiceProvider _meters = null!;
    private PrometheusExporter _exporter = null!;
    private IEventSubscription? _events;

    [SetUp]
    public void SetUp()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: creates real cgroups with a memory limit and runs processes into it");
        }

        _harness = new SupervisorHarness();
        _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _exporter = new PrometheusExporter(_meters.GetRequiredService<IMeterFactory>());
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_harness is null)
        {
            return;
        }

        _events?.Dispose();
        await _harness.DisposeAsync();
        _exporter.Dispose();
        await _meters.DisposeAsync();
        Assert.That(_harness.LeftAfterDispose, Is.Empty, "processes of the test survived the supervisor's disposal");
        Assert.That(_harness.CgroupDirectories(), Is.Empty, "cgroups of the test were left behind");
    }

    /// <summary>A supervisor with real cgroups and a fast OOM watch, and a subscription to its events (both disposed by the harness).</summary>
    private (ISupervisor Supervisor, IEventSubscription Events) Create(TimeProvider? time = null)
    {
        var supervisor = _harness.CreateSupervisor(cgroups: true, time: time, configure: s =>
        {
            s.AddSingleton(_meters.GetRequiredService<IMeterFactory>());
            s.Configure<GitProcOptions>(o => o.ResourceControl.OomPollInterval = PollInterval);
        });
        _events = _harness.LastProvider.GetRequiredService<IEventStream>().Subscribe();
        return (supervisor, _events);
    }

    private async Task<string> ScrapeAsync() => Encoding.UTF8.GetString(await _exporter.CollectAsync());

    [Test]
    public async Task A_child_killed_by_the_OOM_killer_is_the_result_oom_kill_although_the_main_process_exited_137()
    {
        var (supervisor, events) = Create();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("hog", $"[Service]\nExecStart=/bin/sh -c '{ChildHog}'\nMemoryMax=64M\n")]);

        var status = await SupervisorHarness.WaitForAsync(supervisor, "hog", s => s.Status == ServiceStatus.Failed, seconds: 30);

        Assert.That(status.FailureReason, Is.EqualTo("out of memory (OOM killer, MemoryMax=64M)"));
        // Usually the shell exits 137 before the watch's next poll; under load the poll may come first and stop it
        // (OOMPolicy=stop, SIGTERM: 143). Either way the result is oom-kill.
        Assert.That(status.LastExitCode, Is.EqualTo(137).Or.EqualTo(143));
        Assert.That(status.LastExit, Does.EndWith("after the OOM killer killed a process of the service: out of memory"));
        var failed = await NextAsync(events, e => e is { Type: EventTypes.ServiceRecord, To: "failed" });
        Assert.That(failed.Reason, Is.EqualTo("out of memory (OOM killer, MemoryMax=64M)"));
        var scrape = await ScrapeAsync();
        Assert.That(scrape, Does.Contain("gitproc_service_exits_total{reason=\"oom-kill\",service=\"hog\"} 1"));
        Assert.That(scrape, Does.Contain("gitproc_service_oom_kills_total{service=\"hog\"} 1"));
    }

    [Test]
    public async Task OOMPolicy_stop_stops_a_service_whose_main_process_survived_the_kill_and_Restart_applies()
    {
        var (supervisor, events) = Create();
        var marker = _harness.PathOf("runs");
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit(
                "hog",
                $"[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/sh -c 'echo run >> {marker}; {ChildHog}; exec sleep 300'\nMemoryMax=64M\nRestart=on-failure\nRestartSec=30s\n"),
        ]);

        // Without the watch the shell would sleep on: the OOM kill alone stops it.
        var status = await SupervisorHarness.WaitForAsync(supervisor, "hog", s => s.SubState == "auto-restart", seconds: 30);

        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Failed));
        Assert.That(status.FailureReason, Is.EqualTo("out of memory (OOM killer, MemoryMax=64M)"));
        Assert.That(status.LastExitCode, Is.EqualTo(143), "stopped with its KillSignal, SIGTERM");
        Assert.That(status.LastExit, Does.Contain("after the OOM killer killed a process of the service"));
        var procs = _harness.CgroupDirectories().Select(d => Path.Combine(d, "hog", "cgroup.procs")).Where(File.Exists).ToList();
        Assert.That(procs, Is.Not.Empty, "the cgroup is kept for the restart");
        Assert.That(
            await ProcScan.WaitUntilAsync(() => procs.All(p => File.ReadAllText(p).Trim().Length == 0), TimeSpan.FromSeconds(5)),
            Is.True,
            "the sleeping shell was stopped with its cgroup (the kernel may take a moment to reap what it killed)");
        Assert.That(File.ReadAllLines(marker), Has.Length.EqualTo(1), "not restarted before RestartSec");
        var oom = await NextAsync(events, e => e.Type == EventTypes.ServiceOomKill);
        Assert.That(oom.Reason, Does.Contain("OOMPolicy=stop"));
        Assert.That(await ScrapeAsync(), Does.Contain("gitproc_service_exits_total{reason=\"oom-kill\",service=\"hog\"} 1"));
    }

    [Test]
    public async Task OOMPolicy_continue_logs_and_counts_a_child_s_OOM_kill_and_the_service_keeps_running()
    {
        // The OOM watch polls on the fake clock: each poll is one step of the test, so "a few polls later" needs no sleep.
        var time = new FakeTimeProvider();
        var (supervisor, events) = Create(time);
        var survived = _harness.PathOf("survived");
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit(
                "hog",
                $"[Service]\nExecStart=/bin/sh -c '{ChildHog}; touch {survived}; exec sleep 300'\nMemoryMax=64M\nOOMPolicy=continue\n"),
        ]);
        var pid = supervisor.GetStatus("hog").Pid;

        // The shell goes on once tail was killed: the cgroup's counter has the kill, and the next poll finds it.
        Assert.That(await ProcScan.WaitUntilAsync(() => File.Exists(survived), TimeSpan.FromSeconds(10)), Is.True);
        await PollAsync(supervisor, time);
        var oom = await NextAsync(events, e => e.Type == EventTypes.ServiceOomKill);
        Assert.That(oom.Service, Is.EqualTo("hog"));
        Assert.That(oom.Reason, Does.Contain("out of memory (OOM killer, MemoryMax=64M)").And.Contain("OOMPolicy=continue"));

        // A few polls later it still runs, the same process.
        for (var i = 0; i < 3; i++)
        {
            await PollAsync(supervisor, time);
        }

        var status = supervisor.GetStatus("hog");
        Assert.That((status.Status, status.Pid, status.RestartCount), Is.EqualTo((ServiceStatus.Running, pid, 0)));
        var scrape = await ScrapeAsync();
        Assert.That(scrape, Does.Contain("gitproc_service_oom_kills_total{service=\"hog\"} 1"));
        Assert.That(scrape, Does.Not.Contain("gitproc_service_exits_total{reason=\"oom-kill\""));
    }

    /// <summary>Moves the fake clock one poll interval and waits until the hog's OOM watch has handled that tick.</summary>
    private static async Task PollAsync(ISupervisor supervisor, FakeTimeProvider time)
    {
        var poll = ((Supervisor)supervisor).NextOomPoll("hog");
        Assert.That(poll, Is.Not.Null, "the hog's OOM kills are polled (it has MemoryMax=)");
        time.Advance(PollInterval);
        await poll!.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Test]
    public async Task OOMPolicy_kill_kills_every_process_of_the_service_at_once()
    {
        var (supervisor, events) = Create();
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("hog", $"[Service]\nExecStart=/bin/sh -c '{ChildHog}; exec sleep 300'\nMemoryMax=64M\nOOMPolicy=kill\n"),
        ]);

        var status = await SupervisorHarness.WaitForAsync(supervisor, "hog", s => s.Status == ServiceStatus.Failed, seconds: 30);

        Assert.That(status.FailureReason, Is.EqualTo("out of memory (OOM killer, MemoryMax=64M)"));
        Assert.That(status.LastExitCode, Is.EqualTo(137), "SIGKILLed with its cgroup, not stopped with SIGTERM");
        var oom = await NextAsync(events, e => e.Type == EventTypes.ServiceOomKill);
        Assert.That(oom.Reason, Does.Contain("OOMPolicy=kill"));
    }

    [TestCase("stop")]
    [TestCase("continue")]
    [TestCase("kill")]
    public async Task The_main_process_killed_by_the_OOM_killer_is_oom_kill_whatever_the_policy(string policy)
    {
        var (supervisor, events) = Create();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("hog", $"[Service]\nExecStart=/usr/bin/tail /dev/zero\nMemoryMax=32M\nOOMPolicy={policy}\n")]);

        var status = await SupervisorHarness.WaitForAsync(supervisor, "hog", s => s.Status == ServiceStatus.Failed, seconds: 30);

        Assert.That(status.FailureReason, Is.EqualTo("out of memory (OOM killer, MemoryMax=32M)"));
        Assert.That(status.LastExit, Is.EqualTo("killed by the OOM killer (signal 9): out of memory"));
        Assert.That(status.LastExitCode, Is.EqualTo(137));
        Assert.That(await ScrapeAsync(), Does.Contain("gitproc_service_exits_total{reason=\"oom-kill\",service=\"hog\"} 1"));
    }

    [Test]
    public async Task A_oneshot_whose_command_is_OOM_killed_fails_with_oom_kill()
    {
        var (supervisor, events) = Create();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("job", $"[Service]\nType=oneshot\nExecStart=/bin/sh -c '{ChildHog}'\nMemoryMax=64M\n")]);

        var status = await SupervisorHarness.WaitForAsync(supervisor, "job", s => s.Status == ServiceStatus.Failed, seconds: 30);

        Assert.That(status.FailureReason, Is.EqualTo("out of memory (OOM killer, MemoryMax=64M)"));
    }

    private static async Task<GitProcEvent> NextAsync(IEventSubscription events, Func<GitProcEvent, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        try
        {
            await foreach (var e in events.ReadAllAsync(timeout.Token))
            {
                if (match(e))
                {
                    return e;
                }

                seen.Add($"{e.Type} {e.To} {e.Reason}");
            }
        }
        catch (OperationCanceledException)
        {
        }

        Assert.Fail($"no matching event within 30 s; saw: {string.Join(" | ", seen)}");
        return null!;
    }
}
