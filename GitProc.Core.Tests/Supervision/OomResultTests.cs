using GitProc.Processes;
using GitProc.Supervision;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Supervision;

/// <summary>The result oom-kill as systemd treats it: restart table, ExecStopPost= variables, how status words it.</summary>
public sealed class OomResultTests
{
    private static readonly ProcessExit ChildKilled = new(137, null) { OomKilled = true };
    private static readonly ProcessExit MainKilled = new(null, 9) { OomKilled = true };
    private static readonly ProcessExit StoppedForIt = new(null, 15) { OomKilled = true };

    // systemd's service_shall_restart(): on-failure and on-abnormal restart on oom-kill, on-abort and on-success do not.
    [TestCase(RestartPolicy.No, false)]
    [TestCase(RestartPolicy.Always, true)]
    [TestCase(RestartPolicy.OnSuccess, false)]
    [TestCase(RestartPolicy.OnFailure, true)]
    [TestCase(RestartPolicy.OnAbnormal, true)]
    [TestCase(RestartPolicy.OnAbort, false)]
    public void An_OOM_kill_restarts_as_systemd_s_oom_kill_result_does(RestartPolicy policy, bool restarts)
    {
        foreach (var exit in new[] { ChildKilled, MainKilled, StoppedForIt })
        {
            Assert.That(RestartDecision.ShouldRestart(policy, exit), Is.EqualTo(restarts), exit.ToString());
        }
    }

    [Test]
    public void An_OOM_kill_is_never_clean_nor_a_success()
    {
        Assert.That(new[] { ChildKilled, MainKilled, StoppedForIt, new ProcessExit(0, null) { OomKilled = true } }, Has.None.Matches<ProcessExit>(e => e.IsClean || e.IsSuccess));
    }

    [Test]
    public void Last_Exit_says_what_ended_the_main_process_and_that_memory_ran_out()
    {
        Assert.That(MainKilled.ToString(), Is.EqualTo("killed by the OOM killer (signal 9): out of memory"));
        Assert.That(ChildKilled.ToString(), Is.EqualTo("exited with code 137 after the OOM killer killed a process of the service: out of memory"));
        Assert.That(StoppedForIt.ToString(), Is.EqualTo("killed by signal 15 after the OOM killer killed a process of the service: out of memory"));
    }

    [TestCase(67108864L, "64M")]
    [TestCase(1073741824L, "1G")]
    [TestCase(1536L * 1024 * 1024, "1536M")]
    [TestCase(3L << 40, "3T")]
    [TestCase(1000L, "1000")]
    [TestCase(4096L, "4K")]
    public void The_failure_names_the_limit_as_systemd_prints_sizes(long bytes, string shown)
    {
        var unit = UnitFileParser.Parse("hog.service", $"[Service]\nExecStart=/bin/true\nMemoryMax={bytes}\n");

        Assert.That(OomWatch.Reason(unit), Is.EqualTo($"out of memory (OOM killer, MemoryMax={shown})"));
    }

    [Test]
    public void Without_a_memory_limit_the_failure_still_says_out_of_memory() =>
        Assert.That(OomWatch.Reason(UnitFileParser.Parse("hog.service", "[Service]\nExecStart=/bin/true\n")), Is.EqualTo("out of memory (OOM killer)"));

    [Test]
    public void ExecStopPost_gets_systemd_s_result_code_and_status()
    {
        Assert.Multiple(() =>
        {
            Assert.That(StopPost.Environment(new ProcessExit(0, null)), Is.EquivalentTo(Env("success", "exited", "0")));
            Assert.That(StopPost.Environment(new ProcessExit(3, null)), Is.EquivalentTo(Env("exit-code", "exited", "3")));
            Assert.That(StopPost.Environment(new ProcessExit(null, 15)), Is.EquivalentTo(Env("success", "killed", "TERM")));
            Assert.That(StopPost.Environment(new ProcessExit(null, 6)), Is.EquivalentTo(Env("signal", "killed", "ABRT")));
            Assert.That(StopPost.Environment(new ProcessExit(null, 9, TimedOut: true)), Is.EquivalentTo(Env("timeout", "killed", "KILL")));
            Assert.That(StopPost.Environment(MainKilled), Is.EquivalentTo(Env("oom-kill", "killed", "KILL")));
            Assert.That(StopPost.Environment(ChildKilled), Is.EquivalentTo(Env("oom-kill", "exited", "137")));
            Assert.That(StopPost.Environment(ProcessExit.Unknown), Is.EquivalentTo(new Dictionary<string, string> { ["SERVICE_RESULT"] = "success" }));
        });

        static Dictionary<string, string> Env(string result, string code, string status) =>
            new() { ["SERVICE_RESULT"] = result, ["EXIT_CODE"] = code, ["EXIT_STATUS"] = status };
    }
}
