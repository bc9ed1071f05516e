using GitProc.Processes;
using GitProc.State;
using GitProc.Supervision;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Supervision;

/// <summary>systemd.service(5)'s restart table, checked on real processes ending each way.</summary>
[TestFixture]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Platform(Include = "Linux")]
[CancelAfter(30_000)]
public sealed class RestartPolicyTests
{
    // How a process ends: the shell line that ends it, and the ProcessExit it must be recorded as.
    private static readonly (string Name, string Script, ProcessExit Exit)[] Endings =
    [
        ("exit 0", "exit 0", new ProcessExit(0, null)),
        ("exit 3", "exit 3", new ProcessExit(3, null)),
        ("SIGTERM", "kill -TERM $$", new ProcessExit(null, 15)),
        ("SIGKILL", "kill -KILL $$", new ProcessExit(null, 9)),
        ("SIGABRT", "kill -ABRT $$", new ProcessExit(null, 6)),
    ];

    // Which of the endings above each policy restarts on (systemd.service(5), Table 2).
    private static readonly Dictionary<string, bool[]> Table = new()
    {
        ["no"] = [false, false, false, false, false],
        ["always"] = [true, true, true, true, true],
        ["on-success"] = [true, false, true, false, false],
        ["on-failure"] = [false, true, false, true, true],
        ["on-abnormal"] = [false, false, false, true, true],
        ["on-abort"] = [false, false, false, true, true],
    };

    private static IEnumerable<TestCaseData> Cases() =>
        from policy in Table.Keys
        from i in Enumerable.Range(0, Endings.Length)
        select new TestCaseData(policy, i).SetName($"Restart={policy} after {Endings[i].Name} restarts: {Table[policy][i]}");

    [TestCaseSource(nameof(Cases))]
    public void Decision_follows_systemds_table(string policy, int ending)
    {
        var parsed = UnitFileParser.Parse("x.service", $"[Service]\nExecStart=/bin/true\nRestart={policy}\n").Restart;
        Assert.That(RestartDecision.ShouldRestart(parsed, Endings[ending].Exit), Is.EqualTo(Table[policy][ending]));
    }

    [TestCase("no", false)]
    [TestCase("always", true)]
    [TestCase("on-success", false)]
    [TestCase("on-failure", true)]
    [TestCase("on-abnormal", true)]
    [TestCase("on-abort", false)]
    [TestCase("on-watchdog", true)]
    public void A_watchdog_kill_follows_systemds_watchdog_column(string policy, bool restarts)
    {
        var parsed = UnitFileParser.Parse("x.service", $"[Service]\nExecStart=/bin/true\nRestart={policy}\n").Restart;
        var watchdog = new ProcessExit(null, 6) { Watchdog = true };
        Assert.That(RestartDecision.ShouldRestart(parsed, watchdog), Is.EqualTo(restarts));
        Assert.That(watchdog.ToString(), Does.StartWith("killed by the watchdog"));

        // on-watchdog restarts on nothing else.
        Assert.That(Endings.Count(e => RestartDecision.ShouldRestart(RestartPolicy.OnWatchdog, e.Exit)), Is.Zero);
    }

    [Test]
    public void A_timeout_is_restarted_by_on_failure_and_on_abnormal_but_not_on_abort()
    {
        var timedOut = new ProcessExit(null, 9, TimedOut: true);
        Assert.That(RestartDecision.ShouldRestart(RestartPolicy.OnFailure, timedOut), Is.True);
        Assert.That(RestartDecision.ShouldRestart(RestartPolicy.OnAbnormal, timedOut), Is.True);
        Assert.That(RestartDecision.ShouldRestart(RestartPolicy.OnAbort, timedOut), Is.False);
        Assert.That(RestartDecision.ShouldRestart(RestartPolicy.OnSuccess, timedOut), Is.False);
    }

    [Test]
    public void A_forking_start_without_a_main_PID_is_systemds_protocol_failure_and_an_unknown_daemon_exit_a_failure()
    {
        // The start command exited 0 but no main PID was found: on-failure restarts, on-abnormal does not (systemd).
        var protocol = new ProcessExit(0, null) { Protocol = "the daemon did not write its PID file /run/x.pid (PIDFile=)" };
        Assert.That((protocol.IsClean, protocol.IsSuccess), Is.EqualTo((false, false)));
        Assert.That(RestartDecision.ShouldRestart(RestartPolicy.OnFailure, protocol), Is.True);
        Assert.That(RestartDecision.ShouldRestart(RestartPolicy.OnAbnormal, protocol), Is.False);
        Assert.That(RestartDecision.ShouldRestart(RestartPolicy.OnSuccess, protocol), Is.False);
        Assert.That(protocol.ToString(), Is.EqualTo("the daemon did not write its PID file /run/x.pid (PIDFile=)"));
        Assert.That(GitProc.Metrics.GitProcMetrics.ExitReason(protocol, unhealthy: false), Is.EqualTo("protocol"));

        // A forking daemon whose status its parent (init) took first.
        var unknown = ProcessExit.Unknown with { UnknownBecause = "the daemon of a Type=forking service is not this daemon's child" };
        Assert.That(RestartDecision.ShouldRestart(RestartPolicy.OnFailure, unknown), Is.True);
        Assert.That(RestartDecision.ShouldRestart(RestartPolicy.OnAbnormal, unknown), Is.False);
        Assert.That(unknown.ToString(), Is.EqualTo("exited (status unknown: the daemon of a Type=forking service is not this daemon's child)"));
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Real_process(string policy, int ending)
    {
        await using var harness = new SupervisorHarness();
        var marker = harness.PathOf("ran-once");
        var script = harness.Script("svc.sh", $"if [ -f {marker} ]; then exec sleep 300; fi\ntouch {marker}\n{Endings[ending].Script}");
        var supervisor = harness.CreateSupervisor();
        await supervisor.ApplyAsync([SupervisorHarness.Unit("svc", $"[Service]\nExecStart={script}\nRestart={policy}\nRestartSec=0\n")]);

        if (Table[policy][ending])
        {
            var status = await SupervisorHarness.WaitForAsync(supervisor, "svc", s => s.RestartCount == 1 && s.Status == ServiceStatus.Running);
            Assert.That(status.LastExitCode, Is.EqualTo(Endings[ending].Exit.DisplayCode));
        }
        else
        {
            // Its supervision ends (a restart would keep it going), so what the status says now is final.
            await SupervisorHarness.SupervisionEndedAsync(supervisor, "svc");
            var status = supervisor.GetStatus("svc");
            Assert.That(status.RestartCount, Is.Zero);
            Assert.That(status.LastExitCode, Is.EqualTo(Endings[ending].Exit.DisplayCode));
            var clean = Endings[ending].Exit.IsClean;
            Assert.That(status.Status, Is.EqualTo(clean ? ServiceStatus.Stopped : ServiceStatus.Failed));
        }

        await supervisor.StopAllAsync();
        Assert.That(harness.Survivors(), Is.Empty);
    }
}
