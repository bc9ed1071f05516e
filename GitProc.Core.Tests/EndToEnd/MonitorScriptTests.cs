using System.Collections.Concurrent;
using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>samples/integrations/monitor.py</c> as an operator runs it, against a real daemon: a service that was killed and
/// has <c>Restart=no</c> is started again; one an operator stopped, a finished oneshot job, and one whose
/// <c>ConditionHost=</c> names other hosts are left alone.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class MonitorScriptTests : SandboxFixture
{
    private const string Script = "samples/integrations/monitor.py";

    private string _python = null!;

    [SetUp]
    public async Task SetUp()
    {
        _python = Tools.Require("python3", "python3");
    }

    [Test]
    public async Task Once_starts_a_killed_service_again_leaves_an_operator_stopped_one_and_a_finished_job_alone_and_says_so_in_its_exit_code(CancellationToken token)
    {
        var pids = await StartThreeServicesAsync(token);
        var killed = await KillAsync(pids["web"], token);

        var round = await Sandbox.ScriptAsync(Script, ["--once"], token, _python);
        Assert.That(round.ExitCode, Is.EqualTo(3), "3: services were down and were started again\n" + round);
        Assert.That(round.Lines, Has.Some.Match(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] WARNING web is down \(failed: .*signal 9.*\); starting it again$"), round.ToString);
        var list = await Sandbox.ListAsync();
        Assert.That(list["web"].Status, Is.EqualTo("running"));
        Assert.That(list["web"].Pid, Is.Not.EqualTo(killed));
        Assert.That(round.Lines, Has.Some.EndsWith($"INFO web started again (PID: {list["web"].Pid})"), round.ToString);
        Assert.That(list["admin"].Status, Is.EqualTo("stopped"), "the operator's stop is kept");
        Assert.That(list["job"].Status, Is.EqualTo("stopped"), "a finished oneshot job is not run again");
        Assert.That(round.Stdout, Does.Not.Contain("admin").And.Not.Contain("job"), "nothing to say about them without -v");

        var quiet = await Sandbox.ScriptAsync(Script, ["--once", "-v"], token, _python);
        Assert.That(quiet.ExitCode, Is.Zero, quiet.ToString);
        Assert.That(quiet.Lines, Has.Some.EndsWith("INFO admin left alone: stopped by an operator"), quiet.ToString);
        Assert.That(quiet.Lines, Has.Some.EndsWith("INFO job left alone: a oneshot job that has finished"), quiet.ToString);
        Assert.That(quiet.Lines, Has.Some.EndsWith($"INFO web is healthy (running, PID {list["web"].Pid})"), quiet.ToString);

        var unknown = await Sandbox.ScriptAsync(Script, ["--once", "web", "nosuch"], token, _python);
        Assert.That(unknown.ExitCode, Is.EqualTo(4), unknown.ToString);
        Assert.That(unknown.Lines, Has.Some.EndsWith("ERROR nosuch: not a service the daemon knows"), unknown.ToString);

        var usage = await Sandbox.ScriptAsync(Script, ["-i", "soon"], token, _python);
        Assert.That(usage.ExitCode, Is.EqualTo(2), usage.ToString);
        Assert.That(usage.Stderr, Does.Contain("-i").And.Contain("'soon' is not a number of seconds"), usage.ToString);
    }

    [Test]
    public async Task A_service_whose_ConditionHost_names_other_hosts_is_left_alone(CancellationToken token)
    {
        Sandbox.WriteUnit("db", Sandbox.Unit("db").Replace("[Unit]\n", "[Unit]\nConditionHost=db-*\n", StringComparison.Ordinal));
        Sandbox.WriteUnit("web", Sandbox.Unit("web"));
        await Sandbox.CommitAsync("db for db hosts", token);
        await Sandbox.WriteConfigAsync("\"HostName\": \"web-1\"", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "web");

        var round = await Sandbox.ScriptAsync(Script, ["--once", "-v"], token, _python);

        Assert.That(round.ExitCode, Is.Zero, "nothing is down: db does not run here\n" + round);
        Assert.That(round.Lines, Has.Some.EndsWith("INFO db left alone: not for this host: ConditionHost=db-* is not met on host web-1"), round.ToString);
        Assert.That((await Sandbox.ListAsync())["db"].Status, Is.EqualTo("stopped"));
    }

    [Test]
    public async Task Polling_it_brings_a_killed_service_back_keeps_the_operators_stop_and_exits_0_on_SIGTERM(CancellationToken token)
    {
        var pids = await StartThreeServicesAsync(token);
        await RunMonitorAsync(["-i", "0.5", "-v"], async output =>
        {
            Assert.That(await ProcScan.WaitUntilAsync(() => output.Any(l => l.Contains("monitoring every service", StringComparison.Ordinal)), GitProcSandbox.Deadline),
                Is.True, "the monitor started: " + string.Join('\n', output));
            // Not waited for until it shows failed: the monitor may be quicker than the test.
            var killed = pids["web"];
            Assert.That(Interop.Processes.Kill(killed, 9), Is.Zero);

            var list = await Sandbox.WaitForListAsync(l => l["web"] is { Status: "running" } web && web.Pid != killed, "the monitor brought web back", token);
            Assert.That(await ProcScan.WaitUntilAsync(() => output.Any(l => l.EndsWith($"INFO web started again (PID: {list["web"].Pid})", StringComparison.Ordinal)), GitProcSandbox.Deadline),
                Is.True, string.Join('\n', output));

            // Two more rounds, each of which looked at admin (-v logs every round): the operator's stop still holds.
            var rounds = Rounds(output);
            Assert.That(await ProcScan.WaitUntilAsync(() => Rounds(output) >= rounds + 2, GitProcSandbox.Deadline), Is.True, string.Join('\n', output));
            Assert.That((await Sandbox.ListAsync())["admin"].Status, Is.EqualTo("stopped"), string.Join('\n', output));
        });
    }

    [Test]
    public async Task Event_driven_it_brings_a_killed_service_back_without_waiting_for_a_round_and_leaves_an_operators_stop_alone(CancellationToken token)
    {
        var pids = await StartThreeServicesAsync(token);
        // A backstop round an hour away: whatever the monitor does within the test, an event made it do it.
        await RunMonitorAsync(["--events", "-i", "3600", "-v"], async output =>
        {
            Assert.That(await ProcScan.WaitUntilAsync(() => output.Any(l => l.Contains("round done", StringComparison.Ordinal)), GitProcSandbox.Deadline),
                Is.True, "the monitor subscribed and made its first round: " + string.Join('\n', output));
            Assert.That(output, Has.Some.Contains("monitoring every service on").And.Contains("by its events (backstop round every 3600s)"));

            var killed = pids["web"];
            Assert.That(Interop.Processes.Kill(killed, 9), Is.Zero);
            var list = await Sandbox.WaitForListAsync(l => l["web"] is { Status: "running" } web && web.Pid != killed, "the monitor brought web back", token);
            Assert.That(await ProcScan.WaitUntilAsync(() => output.Any(l => l.EndsWith($"INFO web started again (PID: {list["web"].Pid})", StringComparison.Ordinal)), GitProcSandbox.Deadline),
                Is.True, string.Join('\n', output));
            Assert.That(output, Has.Some.Match(@"INFO event: web running -> failed"), "it acted on the event");

            var stop = await Sandbox.ClientAsync(token, "stop", "web");
            Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
            Assert.That(await ProcScan.WaitUntilAsync(() => output.Any(l => l.EndsWith("INFO web left alone: stopped by an operator", StringComparison.Ordinal)), GitProcSandbox.Deadline),
                Is.True, "the stop's event was looked at and respected: " + string.Join('\n', output));

            // The monitor logs a start once it made it (and RunMonitorAsync counts one action only): its verdict is final.
            Assert.That((await Sandbox.ListAsync())["web"].Status, Is.EqualTo("stopped"), string.Join('\n', output));
        });
    }

    /// <summary>
    /// Runs the monitor while <paramref name="whileRunning"/> drives the test, then stops it with SIGTERM: it must end with
    /// exit code 0 and its last line, having acted once on web's one crash.
    /// </summary>
    private async Task RunMonitorAsync(string[] arguments, Func<ConcurrentQueue<string>, Task> whileRunning)
    {
        var output = new ConcurrentQueue<string>();
        using var monitor = Sandbox.StartScript(Script, arguments, _python, output);
        try
        {
            await whileRunning(output);
        }
        finally
        {
            _ = Interop.Processes.Kill(monitor.Id, 15);
            Assert.That(await ProcScan.WaitUntilAsync(() => monitor.HasExited, GitProcSandbox.Deadline), Is.True, "the monitor ends on SIGTERM");
        }

        monitor.WaitForExit();
        Assert.That(monitor.ExitCode, Is.Zero, string.Join('\n', output));
        Assert.That(output.Last(), Does.EndWith("INFO monitor stopped"));
        Assert.That(output.Count(l => l.Contains("web is down", StringComparison.Ordinal)), Is.EqualTo(1), "one action for one crash:\n" + string.Join('\n', output));
    }

    private static int Rounds(ConcurrentQueue<string> output) => output.Count(l => l.Contains("round done", StringComparison.Ordinal));

    /// <summary>web and admin (Restart=no) run; admin is stopped by the operator; job is a oneshot that has finished.</summary>
    private async Task<IReadOnlyDictionary<string, int>> StartThreeServicesAsync(CancellationToken token)
    {
        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restart=no"));
        Sandbox.WriteUnit("admin", Sandbox.Unit("admin", "Restart=no"));
        Sandbox.WriteUnit("job", "[Service]\nType=oneshot\nExecStart=/bin/true\n");
        await Sandbox.CommitAsync("three services", token);
        await Sandbox.StartDaemonAsync(token);
        var pids = await Sandbox.WaitRunningAsync(token, "web", "admin");
        var stop = await Sandbox.ClientAsync(token, "stop", "admin");
        Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
        await Sandbox.WaitForListAsync(l => l["job"].Status == "stopped", "job has run", token);
        return pids;
    }

    /// <summary>SIGKILLs the service's main process, as the OOM killer or an accident would, and waits until it shows failed.</summary>
    private async Task<int> KillAsync(int pid, CancellationToken token)
    {
        Assert.That(Interop.Processes.Kill(pid, 9), Is.Zero);
        await Sandbox.WaitForListAsync(l => l["web"].Status == "failed", "web shows failed", token);
        return pid;
    }
}
