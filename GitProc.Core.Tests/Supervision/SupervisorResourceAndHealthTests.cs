using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Health;
using GitProc.State;

namespace GitProc.Core.Tests.Supervision;

/// <summary>The supervisor with real cgroups (v1 on the development machines) and real HTTP health checks.</summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class SupervisorResourceAndHealthTests : SupervisorFixture
{
    [Test]
    public async Task A_service_past_MemoryMax_is_OOM_killed_recorded_as_such_and_restarted_by_its_policy()
    {
        RequireRoot();
        await using var supervisor = Harness.CreateSupervisor(cgroups: true);
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("hog", "[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/usr/bin/tail /dev/zero\nMemoryMax=32M\nRestart=on-failure\nRestartSec=500ms\n"),
        ]);

        var status = await SupervisorHarness.WaitForAsync(supervisor, "hog", s => s.RestartCount >= 1, seconds: 30);

        Assert.That(status.LastExitCode, Is.EqualTo(137));
        Assert.That(status.LastExit, Does.Contain("OOM"));
        Assert.That(status.LimitsEnforced, Is.True);
    }

    [Test]
    public async Task An_ExecStartPost_command_run_to_completion_does_not_stop_the_main_process_in_the_same_cgroup()
    {
        RequireRoot();
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor(cgroups: true);
        await supervisor.ApplyAsync([SupervisorHarness.Unit("post", $"[Service]\nExecStart={sleeper}\nExecStartPost=/bin/true\n")]);

        // The apply returns once ExecStartPost has run and its tree was stopped; had that tree been the cgroup, the
        // main process would be gone by now.
        var status = supervisor.GetStatus("post");
        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Running));
        Assert.That(status.RestartCount, Is.Zero);
        Assert.That(ProcScan.IsAlive(status.Pid!.Value), Is.True);
    }

    [Test]
    public async Task Stop_reaches_a_process_that_double_forked_and_called_setsid()
    {
        RequireRoot();
        var escape = Harness.Script("escape.sh", "setsid sh -c 'sleep 301 & exit 0' &\nexec sleep 300");
        await using var supervisor = Harness.CreateSupervisor(cgroups: true);
        await supervisor.ApplyAsync([SupervisorHarness.Unit("escapee", $"[Service]\nExecStart={escape}\nKillSignal=SIGTERM\n")]);
        Assert.That(
            await ProcScan.WaitUntilAsync(() => Harness.Survivors().Count >= 2, TimeSpan.FromSeconds(5)),
            Is.True,
            "the escapee should be running in its own session");

        await supervisor.StopAsync("escapee");

        Assert.That(Harness.Survivors(), Is.Empty, "a process that left the process group survived the stop");
        Assert.That(
            Harness.CgroupDirectories().Select(d => Path.Combine(d, "escapee")).Where(Directory.Exists),
            Is.Empty,
            "the service's cgroup is removed after stop");
    }

    [Test]
    public async Task Status_reports_usage_and_that_limits_are_enforced()
    {
        RequireRoot();
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor(cgroups: true);
        await supervisor.ApplyAsync([SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\nMemoryMax=64M\nTasksMax=16\n")]);

        // The process joins its cgroup in the exec shim, just after the start returns.
        var status = await supervisor.GetStatusAsync("web");
        await ProcScan.WaitUntilAsync(
            () =>
            {
                status = supervisor.GetStatusAsync("web").GetAwaiter().GetResult();
                return status.TaskCount == 1;
            },
            TimeSpan.FromSeconds(5));

        Assert.That(status.LimitsEnforced, Is.True);
        Assert.That(status.MemoryBytes, Is.Not.Null, "v1 charges memory in per-CPU batches, so a tiny process may read 0");
        Assert.That(status.TaskCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Status_usage_is_a_reading_at_most_a_second_old_so_CPU_percent_spans_at_least_a_second()
    {
        RequireRoot();
        var spinner = Harness.Script("spinner.sh", "while :; do :; done");
        await using var supervisor = Harness.CreateSupervisor(cgroups: true);
        await supervisor.ApplyAsync([SupervisorHarness.Unit("spin", $"[Service]\nExecStart={spinner}\n")]);
        await Task.Delay(TimeSpan.FromMilliseconds(1100));

        var first = await supervisor.GetStatusAsync("spin");
        var again = await supervisor.GetStatusAsync("spin");
        await Task.Delay(TimeSpan.FromMilliseconds(1100));
        var later = await supervisor.GetStatusAsync("spin");

        Assert.That(first.CpuTime, Is.Not.Null);
        Assert.That(again.CpuTime, Is.EqualTo(first.CpuTime), "a request right after another reads the cgroup again");
        Assert.That(again.CpuPercent, Is.EqualTo(first.CpuPercent));
        Assert.That(later.CpuTime, Is.GreaterThan(first.CpuTime), "a reading older than a second was reused");
        Assert.That(later.CpuPercent, Is.GreaterThan(1.0), "a busy loop measured over a second shows its CPU use");
    }

    [Test]
    public async Task With_CgroupForEveryService_off_only_a_unit_with_limits_gets_a_cgroup()
    {
        RequireRoot();
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor(cgroups: true, cgroupForEveryService: false);
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("plain", $"[Service]\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("limited", $"[Service]\nExecStart={sleeper}\nTasksMax=8\n"),
        ]);

        var plain = await supervisor.GetStatusAsync("plain");
        var limited = await supervisor.GetStatusAsync("limited");

        Assert.That(plain.Status, Is.EqualTo(ServiceStatus.Running));
        Assert.That(plain.LimitsEnforced, Is.False);
        Assert.That(plain.LimitsNote, Is.Null, "a unit without limits has nothing to enforce, so nothing to warn about");
        Assert.That(limited.LimitsEnforced, Is.True);
        Assert.That(Harness.CgroupDirectories().Select(d => Path.Combine(d, "plain")).Where(Directory.Exists), Is.Empty);
        Assert.That(Harness.CgroupDirectories().Select(d => Path.Combine(d, "limited")).Where(Directory.Exists), Is.Not.Empty);

        await supervisor.StopAsync("plain");
        Assert.That((await supervisor.GetStatusAsync("plain")).Status, Is.EqualTo(ServiceStatus.Stopped));
    }

    [Test]
    public async Task Without_cgroups_a_unit_with_limits_still_runs_and_says_limits_are_not_enforced()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor(cgroups: false);
        await supervisor.ApplyAsync([SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\nMemoryMax=64M\n")]);

        var status = await supervisor.GetStatusAsync("web");

        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Running));
        Assert.That(status.LimitsEnforced, Is.False);
    }

    [Test]
    public async Task An_unhealthy_service_is_restarted_and_counted()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 500);
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("web", $"[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart={sleeper}\nHealthCheckURL={server.Url("/health")}\nHealthCheckInterval=100ms\nHealthCheckRetries=2\n"),
        ]);
        var firstPid = supervisor.GetStatus("web").Pid;

        var status = await SupervisorHarness.WaitForAsync(supervisor, "web", s => s.RestartCount >= 1 && s.Status == ServiceStatus.Running, seconds: 20);

        Assert.That(status.Pid, Is.Not.EqualTo(firstPid));
        Assert.That(ProcScan.IsAlive(firstPid!.Value), Is.False);

        // Once the endpoint recovers, the service is healthy and stays up.
        server.Respond("/health", 200);
        status = await SupervisorHarness.WaitForAsync(supervisor, "web", s => s.Health?.State == HealthState.Healthy, seconds: 20);
        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Running));
    }

    [Test]
    public async Task A_dependent_starts_only_once_its_dependency_is_healthy()
    {
        await using var server = new TestHttpServer();
        server.Respond("/health", 503);
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor(healthStartPeriod: TimeSpan.FromSeconds(30));

        var apply = supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("db", $"[Service]\nExecStart={sleeper}\nHealthCheckURL={server.Url("/health")}\nHealthCheckInterval=100ms\n"),
            SupervisorHarness.Unit("app", $"[Unit]\nRequires=db\n[Service]\nExecStart={sleeper}\n"),
        ]);

        // While db answers 503 (inside its start period), app must not start: it has answered so three times.
        Assert.That(await ProcScan.WaitUntilAsync(() => server.Requests("/health") >= 3, TimeSpan.FromSeconds(20)), Is.True, "db's health was never checked");
        Assert.That(apply.IsCompleted, Is.False, "the apply waits for db to be healthy");
        Assert.That(supervisor.GetStatus("db").Status, Is.EqualTo(ServiceStatus.Running));
        Assert.That(supervisor.GetStatus("app").Status, Is.EqualTo(ServiceStatus.Stopped));

        server.Respond("/health", 200);
        await apply.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(supervisor.GetStatus("app").Status, Is.EqualTo(ServiceStatus.Running));
    }


    private static void RequireRoot()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: creates real cgroups");
        }
    }
}
