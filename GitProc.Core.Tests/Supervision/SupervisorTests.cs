using GitProc.Core.Tests.TestSupport;
using GitProc.State;
using GitProc.Supervision;

namespace GitProc.Core.Tests.Supervision;

[TestFixture]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Platform(Include = "Linux")]
[CancelAfter(60_000)]
public sealed class SupervisorTests : SupervisorFixture
{
    [Test]
    public async Task Apply_starts_every_unit_and_stop_all_leaves_no_process()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();

        var result = await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("a", $"[Service]\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("b", $"[Service]\nExecStart={sleeper}\n"),
        ]);

        Assert.That(result.Started, Is.EqualTo(new[] { "a", "b" }));
        foreach (var status in supervisor.ListServices())
        {
            Assert.That(status.Status, Is.EqualTo(ServiceStatus.Running));
            Assert.That(status.Pid, Is.Not.Null);
            Assert.That(ProcScan.IsAlive(status.Pid!.Value), Is.True);
        }

        await supervisor.StopAllAsync();

        Assert.That(Harness.Survivors(), Is.Empty);
        Assert.That(supervisor.ListServices().Select(s => s.Status), Is.All.EqualTo(ServiceStatus.Stopped));
    }

    [Test]
    public async Task A_dependency_is_up_before_its_dependent_starts()
    {
        var marker = Harness.PathOf("db-ready");
        var db = Harness.Script("db.sh", $"sleep 0.3; touch {marker}");
        var app = Harness.Script("app.sh", $"test -f {marker} || exit 7\nexec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();

        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("app", $"[Unit]\nAfter=db\n[Service]\nExecStart={app}\n"),
            SupervisorHarness.Unit("db", $"[Service]\nType=oneshot\nExecStart={db}\n"),
        ]);

        var status = supervisor.GetStatus("app");
        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Running), status.ToString());
        Assert.That(supervisor.GetStatus("db").SubState, Is.EqualTo("exited"));
    }

    [Test]
    public async Task A_failed_required_dependency_fails_its_dependent_without_starting_it()
    {
        var started = Harness.PathOf("app-started");
        var app = Harness.Script("app.sh", $"touch {started}; exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();

        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("db", "[Service]\nExecStart=/nonexistent/db-server\n"),
            SupervisorHarness.Unit("app", $"[Unit]\nRequires=db\n[Service]\nExecStart={app}\n"),
        ]);

        var db = supervisor.GetStatus("db");
        var appStatus = supervisor.GetStatus("app");
        Assert.That(db.Status, Is.EqualTo(ServiceStatus.Failed));
        Assert.That(db.FailureReason, Does.Contain("/nonexistent/db-server"));
        Assert.That(appStatus.Status, Is.EqualTo(ServiceStatus.Failed));
        Assert.That(appStatus.SubState, Is.EqualTo("dependency-failed"));
        Assert.That(appStatus.FailureReason, Does.Contain("db"));
        Assert.That(File.Exists(started), Is.False, "the dependent must never have run");
    }

    [Test]
    public async Task Operator_stop_persists_across_a_supervisor_restart_until_started()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        var units = new[] { SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\n") };

        var first = Harness.CreateSupervisor();
        await first.InitializeAsync();
        await first.ApplyAsync(units, "c1");
        var stopped = await first.StopAsync("web");
        Assert.That(stopped.ManuallyStopped, Is.True);
        await first.DisposeAsync();

        var second = Harness.CreateSupervisor();
        Assert.That(await second.InitializeAsync(), Is.EqualTo("c1"));
        await second.ApplyAsync(units, "c1");

        var status = second.GetStatus("web");
        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Stopped));
        Assert.That(status.ManuallyStopped, Is.True);
        Assert.That(Harness.Survivors(), Is.Empty);

        var started = await second.StartAsync("web");
        Assert.That(started.Status, Is.EqualTo(ServiceStatus.Running));
        Assert.That(started.ManuallyStopped, Is.False);
    }

    [Test]
    public async Task A_supervisor_disposed_without_initializing_or_applying_leaves_the_state_file_alone()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        var first = Harness.CreateSupervisor();
        await first.InitializeAsync();
        await first.ApplyAsync([SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\n")], "c1");
        await first.StopAllAsync();
        var saved = await File.ReadAllTextAsync(Harness.StatePath);

        // A second daemon refused at start-up (its socket is taken) is disposed like this, while the first one runs.
        var refused = Harness.CreateSupervisor();
        await refused.StopAllAsync();
        await refused.DisposeAsync();

        Assert.That(await File.ReadAllTextAsync(Harness.StatePath), Is.EqualTo(saved));
        await first.DisposeAsync();
    }

    [Test]
    public async Task A_restarted_supervisor_takes_over_the_previous_runs_process_instead_of_starting_a_second_copy()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        var units = new[] { SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\n") };

        var first = await CrashedSupervisorAsync(units);
        var oldPid = first.GetStatus("web").Pid!.Value;

        var second = Harness.CreateSupervisor();
        await second.InitializeAsync();
        Assert.That(second.GetStatus("web"), Has.Property(nameof(ServiceSnapshot.Pid)).EqualTo(oldPid)
            .And.Property(nameof(ServiceSnapshot.Status)).EqualTo(ServiceStatus.Running), "taken over as it is");
        var result = await second.ApplyAsync(units, "c1");

        Assert.That(result.Started, Is.Empty);
        Assert.That(result.Unchanged, Is.EqualTo(new[] { "web" }));
        Assert.That(second.GetStatus("web").Pid, Is.EqualTo(oldPid));
        Assert.That(Harness.Survivors(), Is.EquivalentTo(new[] { oldPid }), "exactly one copy runs");
        await second.DisposeAsync();
        Assert.That(ProcScan.IsAlive(oldPid), Is.False, "the adopted process is stopped like any other");
        await first.DisposeAsync();
    }

    [Test]
    public async Task A_unit_an_older_more_lenient_daemon_applied_is_taken_over_not_dropped_by_the_strict_parser()
    {
        // An upgrade made unknown keys errors: the state still holds a unit applied when Restrat= was only a warning.
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        var lenient = new GitProc.UnitFiles.UnitFileOptions { UnknownKeys = GitProc.UnitFiles.UnknownKeyHandling.Warn };
        var units = new[] { GitProc.UnitFiles.UnitFileParser.Parse("web.service", $"[Service]\nExecStart={sleeper}\nRestrat=always\n", lenient) };
        var first = await CrashedSupervisorAsync(units);
        var oldPid = first.GetStatus("web").Pid!.Value;

        var second = Harness.CreateSupervisor();
        await second.InitializeAsync();

        Assert.That(second.GetStatus("web"), Has.Property(nameof(ServiceSnapshot.Pid)).EqualTo(oldPid)
            .And.Property(nameof(ServiceSnapshot.Status)).EqualTo(ServiceStatus.Running), "its process keeps running under the new daemon");
        Assert.That(second.AppliedUnits.Select(u => u.Name), Is.EqualTo(new[] { "web" }), "what runs is still known, to resume from a rejected tip");
        await second.DisposeAsync();
        await first.DisposeAsync();
    }

    [Test]
    public async Task After_a_restart_a_changed_unit_restarts_once_a_removed_one_stops_and_a_dead_one_starts_again()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        var first = await CrashedSupervisorAsync(
        [
            SupervisorHarness.Unit("kept", $"[Service]\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("changed", $"[Service]\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("removed", $"[Service]\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("died", $"[Service]\nExecStart={sleeper}\n"),
        ]);
        var pids = first.ListServices().ToDictionary(s => s.Name, s => s.Pid!.Value);

        // While "no daemon runs": one service dies, and the next commit changes one unit and removes another.
        _ = Interop.Processes.Kill(pids["died"], 9);
        Assert.That(await ProcScan.WaitUntilAsync(() => !ProcScan.IsAlive(pids["died"]), TimeSpan.FromSeconds(5)), Is.True);
        var second = Harness.CreateSupervisor();
        await second.InitializeAsync();
        var result = await second.ApplyAsync(
        [
            SupervisorHarness.Unit("kept", $"[Service]\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("changed", $"[Service]\nEnvironment=V=2\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("died", $"[Service]\nExecStart={sleeper}\n"),
        ], "c2");

        Assert.Multiple(() =>
        {
            Assert.That(result.Restarted, Is.EqualTo(new[] { "changed" }));
            Assert.That(result.Stopped, Is.EqualTo(new[] { "removed" }));
            Assert.That(second.GetStatus("kept").Pid, Is.EqualTo(pids["kept"]), "unchanged and alive: untouched");
            Assert.That(second.GetStatus("changed").Pid, Is.Not.EqualTo(pids["changed"]));
            Assert.That(ProcScan.IsAlive(pids["changed"]), Is.False);
            Assert.That(ProcScan.IsAlive(pids["removed"]), Is.False);
            Assert.That(second.GetStatus("died").Status, Is.EqualTo(ServiceStatus.Running), "what died meanwhile runs again");
        });
        Assert.That(Harness.Survivors(), Has.Count.EqualTo(3), "one process per service");
        await second.DisposeAsync();
        await first.DisposeAsync();
    }

    [Test]
    public async Task An_adopted_process_that_exits_is_restarted_by_its_policy()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        var units = new[] { SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\nRestart=always\nRestartSec=0\n") };
        var first = await CrashedSupervisorAsync(units);
        var oldPid = first.GetStatus("web").Pid!.Value;
        var second = Harness.CreateSupervisor();
        await second.InitializeAsync();
        await second.ApplyAsync(units, "c1");

        _ = Interop.Processes.Kill(oldPid, 9);
        var restarted = await SupervisorHarness.WaitForAsync(
            second, "web", s => s.Status == ServiceStatus.Running && s.Pid is { } pid && pid != oldPid && s.RestartCount == 1);

        Assert.That(restarted.LastExit, Does.Contain("signal 9").Or.Contain("status unknown"));
        await second.DisposeAsync();
        await first.DisposeAsync();
    }

    /// <summary>
    /// A supervisor that "crashes" after applying <paramref name="units"/>: its state is on disk and its processes run
    /// on; a second supervisor over the same state plays the daemon started afterwards.
    /// </summary>
    private async Task<ISupervisor> CrashedSupervisorAsync(IReadOnlyCollection<GitProc.UnitFiles.UnitFile> units)
    {
        var first = Harness.CreateSupervisor();
        await first.InitializeAsync();
        await first.ApplyAsync(units, "c1");
        return first;
    }

    [TestCase("control-group", true, true)]
    [TestCase("mixed", false, true)]
    [TestCase("process", false, false)]
    public async Task KillMode_decides_who_gets_the_stop_signal_and_what_survives_the_stop(string mode, bool childGetsTerm, bool childStops)
    {
        var termed = Harness.PathOf("child-got-term");
        var child = Harness.Script("child.sh", $"trap 'echo TERM > {termed}' TERM\nwhile :; do sleep 0.05; done");
        var main = Harness.Script("main.sh", $"{child} &\nexec sleep 300");

        // The child ignores SIGTERM (it only notes it): with control-group only the timeout's SIGKILL ends it, while
        // mixed and process signal the main process alone and must not wait for that timeout.
        var timeout = mode == "control-group" ? 1 : 60;
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("svc", $"[Service]\nExecStart={main}\nKillMode={mode}\nTimeoutStopSec={timeout}\n")]);
        Assert.That(await ProcScan.WaitUntilAsync(() => ProcScan.FindByCommandLine(child).Count == 1, TimeSpan.FromSeconds(5)), Is.True);
        var childPid = ProcScan.FindByCommandLine(child)[0];
        var group = supervisor.GetStatus("svc").Pid!.Value;

        var stop = supervisor.StopAsync("svc");
        Assert.That(await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(30))), Is.SameAs(stop), "the stop waited for a timeout it should not have");
        await stop;

        Assert.That(
            await ProcScan.WaitUntilAsync(() => ProcScan.IsAlive(childPid) != childStops, TimeSpan.FromSeconds(5)),
            Is.True,
            childStops ? "the child was stopped with the service" : "the child was left running");
        Assert.That(File.Exists(termed), Is.EqualTo(childGetsTerm), "whether the child got the stop signal");
        _ = Interop.Processes.Kill(-group, 9);
    }

    [Test]
    public async Task Apply_restarts_changed_units_stops_removed_ones_and_leaves_the_rest_alone()
    {
        var envOut = Harness.PathOf("env.out");
        var printer = Harness.Script("printer.sh", $"echo \"$GREETING\" > {envOut}; exec sleep 300");
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();

        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("greeter", $"[Service]\nEnvironment=GREETING=hello\nExecStart={printer}\n"),
            SupervisorHarness.Unit("steady", $"[Service]\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("doomed", $"[Service]\nExecStart={sleeper}\n"),
        ]);
        var steadyPid = supervisor.GetStatus("steady").Pid;
        var doomedPid = supervisor.GetStatus("doomed").Pid!.Value;
        await ProcScan.WaitUntilAsync(() => File.Exists(envOut) && File.ReadAllText(envOut).Trim() == "hello", TimeSpan.FromSeconds(5));

        var result = await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("greeter", $"[Service]\nEnvironment=GREETING=bonjour\nExecStart={printer}\n"),
            SupervisorHarness.Unit("steady", $"[Service]\nExecStart={sleeper}\n"),
        ]);

        Assert.That(result.Restarted, Is.EqualTo(new[] { "greeter" }));
        Assert.That(result.Stopped, Is.EqualTo(new[] { "doomed" }));
        Assert.That(result.Unchanged, Is.EqualTo(new[] { "steady" }));
        Assert.That(supervisor.GetStatus("steady").Pid, Is.EqualTo(steadyPid));
        Assert.That(ProcScan.IsAlive(doomedPid), Is.False);
        Assert.That(supervisor.ListServices().Select(s => s.Name), Is.EqualTo(new[] { "greeter", "steady" }));
        Assert.Throws<ServiceNotFoundException>(() => supervisor.GetStatus("doomed"));
        Assert.That(
            await ProcScan.WaitUntilAsync(() => File.ReadAllText(envOut).Trim() == "bonjour", TimeSpan.FromSeconds(5)),
            Is.True,
            "the changed unit runs with its new Environment");
    }

    [Test]
    public async Task A_cycle_is_rejected_and_nothing_changes()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("a", $"[Service]\nExecStart={sleeper}\n")]);
        var pid = supervisor.GetStatus("a").Pid;

        var ex = Assert.ThrowsAsync(Is.InstanceOf<GitProcException>(), () => supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("a", $"[Unit]\nAfter=b\n[Service]\nExecStart={sleeper}\n"),
            SupervisorHarness.Unit("b", $"[Unit]\nAfter=a\n[Service]\nExecStart={sleeper}\n"),
        ]));

        Assert.That(ex!.Message, Does.Contain("a").And.Contain("b"));
        Assert.That(supervisor.GetStatus("a").Pid, Is.EqualTo(pid));
        Assert.That(supervisor.ListServices(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Operator_commands_report_wrong_states_and_unknown_names()
    {
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("web", $"[Service]\nExecStart={sleeper}\n")]);

        var running = Assert.ThrowsAsync<ServiceOperationException>(() => supervisor.StartAsync("web"));
        Assert.That(running!.Message, Is.EqualTo("Service already running: web"));
        Assert.ThrowsAsync<ServiceNotFoundException>(() => supervisor.StopAsync("nope"));

        await supervisor.StopAsync("web");
        var notRunning = Assert.ThrowsAsync<ServiceOperationException>(() => supervisor.StopAsync("web"));
        Assert.That(notRunning!.Message, Is.EqualTo("Service not running: web"));

        var restarted = await supervisor.RestartAsync("web");
        Assert.That(restarted.Status, Is.EqualTo(ServiceStatus.Running));
        Assert.That(restarted.RestartCount, Is.Zero, "an operator's restart is not an automatic one");
    }

    [Test]
    public async Task A_crash_restart_never_races_an_operator_stop()
    {
        // A service that dies at once and is restarted at once, hammered with stops and starts.
        var flaky = Harness.Script("flaky.sh", "sleep 0.01; exit 1");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("flaky", $"[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart={flaky}\nRestart=always\nRestartSec=0\n"),
        ]);

        for (var i = 0; i < 30; i++)
        {
            try
            {
                await supervisor.StopAsync("flaky");
            }
            catch (ServiceOperationException)
            {
                // Between a crash and its restart the service may count as not running.
            }

            Assert.That(supervisor.GetStatus("flaky").Status, Is.Not.EqualTo(ServiceStatus.Running));
            await supervisor.StartAsync("flaky");
        }

        await supervisor.StopAsync("flaky");

        // Every supervise loop the stops took over has ended: no restart is left to slip in later.
        await SupervisorHarness.SupervisionEndedAsync(supervisor, "flaky");
        var status = supervisor.GetStatus("flaky");
        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Stopped));
        Assert.That(status.Pid, Is.Null);
        Assert.That(Harness.Survivors(), Is.Empty, "a restart slipped past the stop");
    }

    [Test]
    public async Task Exec_commands_run_in_systemds_order()
    {
        var log = Harness.PathOf("order.log");
        var step = Harness.Script("step.sh", $"echo \"$1\" >> {log}");
        var main = Harness.Script("main.sh", $"echo main >> {log}; exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();

        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("svc", $"[Service]\nExecStartPre={step} pre1\nExecStartPre={step} pre2\nExecStart={main}\nExecStartPost={step} post\nExecStop={step} stop\n"),
        ]);
        await ProcScan.WaitUntilAsync(() => File.ReadAllLines(log).Contains("main"), TimeSpan.FromSeconds(5));
        await supervisor.StopAsync("svc");

        var lines = File.ReadAllLines(log);
        Assert.That(lines.Take(2), Is.EqualTo(new[] { "pre1", "pre2" }));
        Assert.That(lines, Is.EquivalentTo(new[] { "pre1", "pre2", "main", "post", "stop" }));
        Assert.That(lines[^1], Is.EqualTo("stop"));
    }

    [Test]
    public async Task A_failing_ExecStartPre_fails_the_start_and_the_main_command_never_runs()
    {
        var ran = Harness.PathOf("main-ran");
        var main = Harness.Script("main.sh", $"touch {ran}; exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("svc", $"[Service]\nExecStartPre=/bin/false\nExecStart={main}\n")]);

        var status = supervisor.GetStatus("svc");
        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Failed));
        Assert.That(status.FailureReason, Does.Contain("ExecStartPre"));
        Assert.That(File.Exists(ran), Is.False);

        var ex = Assert.ThrowsAsync<ServiceOperationException>(() => supervisor.StartAsync("svc"));
        Assert.That(ex!.Message, Does.Contain("svc").And.Contain("ExecStartPre"));
    }

    [Test]
    public async Task Oneshot_success_is_stopped_and_failure_is_failed()
    {
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("ok", "[Service]\nType=oneshot\nExecStart=/bin/true\nExecStart=/bin/true\n"),
            SupervisorHarness.Unit("bad", "[Service]\nType=oneshot\nExecStart=/bin/true\nExecStart=/bin/sh -c 'exit 4'\n"),
        ]);

        var ok = supervisor.GetStatus("ok");
        var bad = supervisor.GetStatus("bad");
        Assert.That((ok.Status, ok.SubState, ok.LastExitCode), Is.EqualTo((ServiceStatus.Stopped, "exited", (int?)0)));
        Assert.That((bad.Status, bad.LastExitCode), Is.EqualTo((ServiceStatus.Failed, (int?)4)));
    }

    [Test]
    public async Task Service_output_reaches_its_log()
    {
        var talker = Harness.Script("talker.sh", "echo out-line; echo err-line >&2; exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("talker", $"[Service]\nExecStart={talker}\n")]);

        var logFile = Path.Combine(Harness.LogDirectory, "talker.log");
        Assert.That(
            await ProcScan.WaitUntilAsync(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains("err-line"), TimeSpan.FromSeconds(5)),
            Is.True);
        Assert.That(File.ReadAllLines(logFile), Has.Some.Match(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] out-line$"));
    }

    [Test]
    public async Task The_units_log_rate_limit_applies_to_its_output()
    {
        var chatty = Harness.Script("chatty.sh", "for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; done");
        await using var supervisor = Harness.CreateSupervisor();
        await supervisor.ApplyAsync(
            [SupervisorHarness.Unit("chatty", $"[Service]\nType=oneshot\nExecStart={chatty}\nLogRateLimitIntervalSec=1h\nLogRateLimitBurst=3\n")]);

        // The marker comes when the service's last writer closes (its process ended), as the hour is not over.
        var logFile = Path.Combine(Harness.LogDirectory, "chatty.log");
        Assert.That(
            await ProcScan.WaitUntilAsync(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains("dropped"), TimeSpan.FromSeconds(10)),
            Is.True);
        Assert.That(
            File.ReadAllLines(logFile).Select(line => line[22..]),
            Is.EqualTo(new[] { "line 1", "line 2", "line 3", "gitproc: 7 lines dropped: rate limit (LogRateLimitBurst=3 per LogRateLimitIntervalSec=1h)" }));
    }
}
