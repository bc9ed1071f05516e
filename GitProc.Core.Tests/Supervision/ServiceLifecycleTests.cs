using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.State;
using GitProc.Supervision;

namespace GitProc.Core.Tests.Supervision;

/// <summary>
/// What happens to a service after its start, with real processes: RemainAfterExit= oneshots, ExecStopPost= and
/// reloads (ExecReload=, ReloadSignal=).
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class ServiceLifecycleTests : SupervisorFixture
{
    /// <summary>A oneshot that appends a line to <c>runs</c> each time it runs (and <c>undone</c> on ExecStop=), and a crashing dependent.</summary>
    private GitProc.UnitFiles.UnitFile[] PrepareAndWorker(bool remainAfterExit)
    {
        var runs = Harness.PathOf("runs");
        var prepare = Harness.Script("prepare.sh", $"echo run >> {runs}");
        var worker = Harness.Script("worker.sh", "sleep 0.2; exit 3");
        return
        [
            SupervisorHarness.Unit(
                "prepare",
                $"[Service]\nType=oneshot\nExecStart={prepare}\nExecStop=/bin/sh -c 'echo undone >> {Harness.PathOf("undone")}'\nRemainAfterExit={(remainAfterExit ? "yes" : "no")}\n"),
            SupervisorHarness.Unit(
                "worker",
                $"[Unit]\nAfter=prepare\nRequires=prepare\nStartLimitIntervalSec=0\n[Service]\nExecStart={worker}\nRestart=on-failure\nRestartSec=100ms\n"),
        ];
    }

    private int Runs() => File.Exists(Harness.PathOf("runs")) ? File.ReadAllLines(Harness.PathOf("runs")).Length : 0;

    [Test]
    public async Task A_RemainAfterExit_oneshot_runs_once_while_its_dependent_crashes_and_is_restarted()
    {
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync(PrepareAndWorker(remainAfterExit: true));
        await SupervisorHarness.WaitForAsync(supervisor, "worker", s => s.RestartCount >= 3);
        for (var i = 0; i < 3; i++)
        {
            await supervisor.RestartAsync("worker");
        }

        await supervisor.StopAsync("worker");
        await supervisor.StartAsync("worker");
        Assert.That(Runs(), Is.EqualTo(1));
        var status = supervisor.GetStatus("prepare");
        Assert.That((status.Status, status.SubState, status.Pid), Is.EqualTo((ServiceStatus.Running, "exited", (int?)null)));
        Assert.That(async () => await supervisor.StartAsync("prepare"), Throws.TypeOf<ServiceOperationException>().With.Message.EqualTo("Service already running: prepare"));

        // stop makes it inactive (running its ExecStop=); a later start runs it again.
        await supervisor.StopAsync("prepare");
        status = supervisor.GetStatus("prepare");
        Assert.That((status.Status, status.SubState), Is.EqualTo((ServiceStatus.Stopped, "dead")));
        Assert.That(File.ReadAllLines(Harness.PathOf("undone")), Is.EqualTo(new[] { "undone" }));
        await supervisor.StartAsync("prepare");
        Assert.That(Runs(), Is.EqualTo(2));
        Assert.That(supervisor.GetStatus("prepare").Status, Is.EqualTo(ServiceStatus.Running));
    }

    [Test]
    public async Task Without_RemainAfterExit_a_oneshot_runs_again_each_time_its_dependent_is_restarted()
    {
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync(PrepareAndWorker(remainAfterExit: false));
        for (var i = 0; i < 3; i++)
        {
            await supervisor.RestartAsync("worker");
        }

        Assert.That(Runs(), Is.EqualTo(4));
        var status = supervisor.GetStatus("prepare");
        Assert.That((status.Status, status.SubState), Is.EqualTo((ServiceStatus.Stopped, "exited")));
    }

    [Test]
    public async Task A_RemainAfterExit_oneshot_stays_active_for_the_next_daemon_and_is_not_run_again()
    {
        var units = PrepareAndWorker(remainAfterExit: true);
        var first = Harness.CreateSupervisor();
        await first.InitializeAsync();
        await first.ApplyAsync(units, "c1");
        Assert.That(Runs(), Is.EqualTo(1));

        // The first daemon "crashed": a second one over the same state takes over.
        var second = Harness.CreateSupervisor();
        await second.InitializeAsync();
        await second.ApplyAsync(units, "c1");

        Assert.That(Runs(), Is.EqualTo(1));
        var status = second.GetStatus("prepare");
        Assert.That((status.Status, status.SubState), Is.EqualTo((ServiceStatus.Running, "exited")));
        await second.DisposeAsync();
        await first.DisposeAsync();
    }

    [Test]
    public async Task A_failed_RemainAfterExit_oneshot_is_failed_not_active()
    {
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("job", "[Service]\nType=oneshot\nExecStart=/bin/false\nRemainAfterExit=yes\n")]);

        var status = supervisor.GetStatus("job");
        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Failed));
    }

    private string StopPostRecorder(string name = "post") =>
        Harness.Script(name + ".sh", $"echo \"$SERVICE_RESULT $EXIT_CODE $EXIT_STATUS\" >> {Harness.PathOf(name)}");

    private string[] Recorded(string name = "post") => File.Exists(Harness.PathOf(name)) ? File.ReadAllLines(Harness.PathOf(name)) : [];

    [Test]
    public async Task ExecStopPost_runs_after_an_operators_stop_with_systemd_s_variables()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\nExecStopPost={StopPostRecorder()}\n")]);
        Assert.That(Recorded(), Is.Empty, "not while it runs");

        await supervisor.StopAsync("web");

        Assert.That(Recorded(), Is.EqualTo(new[] { "success killed TERM" }));
    }

    [Test]
    public async Task ExecStopPost_runs_after_a_crash_before_the_restart()
    {
        var crasher = Harness.Script("crasher.sh", "sleep 0.1; exit 3");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("web", $"[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart={crasher}\nExecStopPost={StopPostRecorder()}\nRestart=on-failure\nRestartSec=100ms\n"),
        ]);

        await SupervisorHarness.WaitForAsync(supervisor, "web", s => s.RestartCount >= 2);

        Assert.That(Recorded().Take(2), Is.EqualTo(new[] { "exit-code exited 3", "exit-code exited 3" }));
    }

    [Test]
    public async Task ExecStopPost_runs_after_a_failed_start_and_its_own_failure_is_not_fatal()
    {
        await using var supervisor = Harness.CreateSupervisor();
        var unit = SupervisorHarness.Unit(
            "web",
            $"[Service]\nExecStartPre=/bin/sh -c 'exit 7'\nExecStart=/bin/sleep 300\nExecStopPost=/bin/false\nExecStopPost={StopPostRecorder()}\n");

        await supervisor.ApplyAsync([unit]);
        await SupervisorHarness.WaitForAsync(supervisor, "web", s => s.Status == ServiceStatus.Failed);

        Assert.That(
            async () => await supervisor.StartAsync("web"),
            Throws.TypeOf<ServiceOperationException>().With.Message.Contains("ExecStartPre command '/bin/sh -c 'exit 7'' exited with code 7"));
        Assert.That(await ProcScan.WaitUntilAsync(() => Recorded().Length == 2, TimeSpan.FromSeconds(10)), Is.True, "once per failed start");
        Assert.That(Recorded(), Is.EqualTo(new[] { "exit-code exited 7", "exit-code exited 7" }), "after /bin/false failed");
    }

    [Test]
    public async Task ExecStopPost_is_bounded_by_TimeoutStopSec()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        var hang = Harness.Script("hang.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\nExecStopPost={hang}\nExecStopPost={StopPostRecorder()}\nTimeoutStopSec=1\n")]);

        var stop = supervisor.StopAsync("web");

        Assert.That(await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(30))), Is.SameAs(stop), "the stop waited for a hanging ExecStopPost");
        await stop;
        Assert.That(Recorded(), Is.EqualTo(new[] { "success killed TERM" }), "the next ExecStopPost still ran");
        Assert.That(ProcScan.FindByCommandLine(hang), Is.Empty);
    }

    [Test]
    public async Task Reload_sends_ReloadSignal_to_the_main_process_which_keeps_running()
    {
        var hups = Harness.PathOf("hups");
        var trapped = Harness.PathOf("trapped");
        var counter = Harness.Script("counter.sh", $"trap 'echo hup >> {hups}' HUP\ntouch {trapped}\nwhile :; do sleep 0.05; done");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("web", $"[Service]\nExecStart={counter}\nReloadSignal=SIGHUP\n")]);
        var pid = supervisor.GetStatus("web").Pid;

        // A SIGHUP before the trap is set would end the shell.
        Assert.That(await ProcScan.WaitUntilAsync(() => File.Exists(trapped), TimeSpan.FromSeconds(10)), Is.True, "the script never set its trap");

        for (var i = 1; i <= 3; i++)
        {
            var reloaded = await supervisor.ReloadAsync("web");
            Assert.That(reloaded.Pid, Is.EqualTo(pid));
            var expected = i;
            Assert.That(
                await ProcScan.WaitUntilAsync(() => File.Exists(hups) && File.ReadAllLines(hups).Length == expected, TimeSpan.FromSeconds(10)),
                Is.True,
                $"SIGHUP {i} was not counted");
        }

        var status = supervisor.GetStatus("web");
        Assert.That((status.Status, status.Pid, status.RestartCount), Is.EqualTo((ServiceStatus.Running, pid, 0)));
    }

    [Test]
    public async Task Reload_runs_ExecReload_with_MAINPID_and_waits_for_it()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        var reload = Harness.Script("reload.sh", $"sleep 0.3; echo \"$1\" > {Harness.PathOf("reloaded")}");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\nExecReload={reload} $MAINPID\n")]);
        var pid = supervisor.GetStatus("web").Pid;

        var reloaded = await supervisor.ReloadAsync("web");

        Assert.That(reloaded.Pid, Is.EqualTo(pid));
        Assert.That(File.ReadAllText(Harness.PathOf("reloaded")).Trim(), Is.EqualTo(pid.ToString()), "waited for, with $MAINPID expanded");
    }

    [Test]
    public async Task Reload_refuses_a_unit_without_ExecReload_or_ReloadSignal_a_stopped_service_and_reports_a_failing_command()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("plain", $"[Service]\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("broken", $"[Service]\nExecStart={sleeper}\nExecReload=/bin/sh -c 'exit 4'\n"),
        ]);

        Assert.That(
            async () => await supervisor.ReloadAsync("plain"),
            Throws.TypeOf<ServiceOperationException>().With.Message.StartsWith("plain has no ExecReload= and no ReloadSignal="));
        Assert.That(
            async () => await supervisor.ReloadAsync("broken"),
            Throws.TypeOf<ServiceOperationException>().With.Message.EqualTo("Reloading broken failed: ExecReload command '/bin/sh -c 'exit 4'' exited with code 4"));
        Assert.That(supervisor.GetStatus("broken").Status, Is.EqualTo(ServiceStatus.Running), "a failed reload leaves the service running");
        await supervisor.StopAsync("broken");
        Assert.That(async () => await supervisor.ReloadAsync("broken"), Throws.TypeOf<ServiceOperationException>().With.Message.EqualTo("Service not running: broken"));
        Assert.That(async () => await supervisor.ReloadAsync("nope"), Throws.TypeOf<ServiceNotFoundException>());
    }
}
