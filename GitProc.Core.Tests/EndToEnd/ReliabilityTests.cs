using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The daemon is never the outage (CONTRACT §9), with the real daemon, CLI, Git repository and processes: a daemon
/// killed with SIGKILL leaves its services running, the next daemon takes them over (same PIDs, output still
/// captured, exits still handled); an acknowledged command is on disk before its answer; a corrupt object in the
/// applied commit does not stop a restarted daemon from running what it ran.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[Category("Reliability")]
[CancelAfter(120_000)]
public sealed class ReliabilityTests : SandboxFixture
{
    [Test]
    public async Task A_killed_daemons_services_keep_running_and_the_next_daemon_takes_them_over(CancellationToken token)
    {
        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restart=always\nRestartSec=0"));
        Sandbox.WriteUnit("worker", Sandbox.Unit("worker"));
        Sandbox.WriteUnit("counter", CounterLog.Unit());
        await Sandbox.CommitAsync("three services", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "web", "worker", "counter");
        await WaitForCounterAsync(10, token);

        await Sandbox.KillDaemonAsync();
        Assert.That(before.Values.Select(ProcScan.IsAlive), Is.All.True, "killing the daemon kills no service");
        await Task.Delay(300, token);
        await Sandbox.StartDaemonAsync(token);
        var after = await Sandbox.WaitRunningAsync(token, "web", "worker", "counter");

        Assert.That(after, Is.EqualTo(before), "every service was taken over with its PID: nothing restarted");
        var restarts = await Sandbox.ClientAsync(token, "status", "web");
        Assert.That(restarts.Lines, Does.Contain("Restarts: 0"), restarts.ToString);

        // Output written while no daemon ran, and after, reaches the log: no line lost, none torn.
        var seen = await WaitForCounterAsync(CounterNow() + 50, token);
        CounterLog.AssertComplete(seen);

        // The adopted process's exit is noticed and handled by its policy.
        _ = Interop.Processes.Kill(after["web"], 9);
        var restarted = await Sandbox.WaitForListAsync(
            l => l["web"] is { Status: "running", Pid: { } pid } && pid != after["web"], "web is restarted by its policy", token);
        Assert.That(restarted["worker"].Pid, Is.EqualTo(before["worker"]));
        var status = await Sandbox.ClientAsync(token, "status", "web");
        Assert.That(status.Lines, Does.Contain("Restarts: 1"), status.ToString);
    }

    [Test]
    public async Task A_unit_changed_or_removed_while_no_daemon_ran_is_restarted_once_or_stopped(CancellationToken token)
    {
        Sandbox.WriteUnit("kept", Sandbox.Unit("kept"));
        Sandbox.WriteUnit("changed", Sandbox.Unit("changed"));
        Sandbox.WriteUnit("removed", Sandbox.Unit("removed"));
        await Sandbox.CommitAsync("three", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "kept", "changed", "removed");
        await Sandbox.KillDaemonAsync();

        Sandbox.WriteUnit("changed", Sandbox.Unit("changed", "Environment=VERSION=2"));
        Sandbox.RemoveUnit("removed");
        await Sandbox.CommitAsync("change one, remove one", token);
        await Sandbox.StartDaemonAsync(token);

        var after = await Sandbox.WaitForListAsync(
            l => !l.ContainsKey("removed") && l["changed"] is { Status: "running", Pid: { } pid } && pid != before["changed"],
            "changed restarts and removed is gone",
            token);
        Assert.That(after["kept"].Pid, Is.EqualTo(before["kept"]), "the unchanged service keeps its process");
        Assert.That(ProcScan.IsAlive(before["changed"]), Is.False);
        Assert.That(ProcScan.IsAlive(before["removed"]), Is.False);
        Assert.That(await File.ReadAllTextAsync($"/proc/{after["changed"].Pid}/environ", token), Does.Contain("VERSION=2\0"));
        Assert.That(
            Sandbox.FindProcesses().Where(pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("service.sh", StringComparison.Ordinal)).ToList(),
            Has.Count.EqualTo(2),
            "one main process per service, no copy of an old one");
    }

    [Test]
    public async Task An_acknowledged_stop_or_start_survives_a_kill_right_after_the_answer(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"));
        await Sandbox.CommitAsync("two", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "alpha", "beta");

        // The daemon dies the moment the answer arrives: what it acknowledged must already be on disk.
        await RequestThenKillAsync("""{"command":"stop","service":"alpha"}""");
        await Sandbox.StartDaemonAsync(token);
        var afterStop = await Sandbox.WaitForListAsync(l => l["beta"].Status == "running", "beta runs", token);
        Assert.That(afterStop["alpha"].Status, Is.EqualTo("stopped"), "the acknowledged stop was not undone");
        Assert.That(afterStop["beta"].Pid, Is.EqualTo(before["beta"]));

        var started = await RequestThenKillAsync("""{"command":"start","service":"alpha"}""");
        await Sandbox.StartDaemonAsync(token);
        var afterStart = await Sandbox.WaitRunningAsync(token, "alpha", "beta");
        Assert.That(afterStart["alpha"], Is.EqualTo(started), "the acknowledged start kept its process: it was taken over, not restarted");
        Assert.That(afterStart["beta"], Is.EqualTo(before["beta"]));
    }

    [Test]
    public async Task A_state_directory_that_cannot_be_written_fails_the_stop_and_leaves_the_service_running(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        await Sandbox.CommitAsync("one", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "alpha");

        // The state's directory turns read-only (as a full or remounted disk would refuse writes). Root ignores
        // permission bits, so the directory is replaced by a file the daemon cannot create anything in.
        var directory = Path.GetDirectoryName(Sandbox.State)!;
        var aside = directory + ".aside";
        Directory.Move(directory, aside);
        await File.WriteAllTextAsync(directory, "not a directory", token);
        try
        {
            var stop = await Sandbox.ClientAsync(token, "stop", "alpha");
            Assert.That(stop.ExitCode, Is.EqualTo(1), stop.ToString);
            Assert.That(stop.Stderr, Does.Contain("Could not save the state, so alpha was not stopped"), stop.ToString);
            Assert.That(ProcScan.IsAlive(before["alpha"]), Is.True, "the service was left running");
            var status = await Sandbox.ClientAsync(token, "status", "alpha");
            Assert.That(status.Lines, Does.Contain("Status: running"), status.ToString);
            Assert.That(status.Lines.Any(l => l.StartsWith("State Error: ", StringComparison.Ordinal)), Is.True, status.ToString);
        }
        finally
        {
            File.Delete(directory);
            Directory.Move(aside, directory);
        }

        var retried = await Sandbox.ClientAsync(token, "stop", "alpha");
        Assert.That(retried.ExitCode, Is.Zero, retried.ToString);
        var healed = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(healed.Lines.Any(l => l.StartsWith("State Error: ", StringComparison.Ordinal)), Is.False, healed.ToString);
    }

    [Test]
    public async Task Full_state_and_log_file_systems_fail_what_must_be_saved_keep_services_running_and_mark_dropped_lines(CancellationToken token)
    {
        using var stateFs = TinyTmpfs.Mount(Path.GetDirectoryName(Sandbox.State)!, "256k");
        using var logsFs = TinyTmpfs.Mount(Sandbox.Logs, "256k");
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        Sandbox.WriteUnit("counter", CounterLog.Unit());
        await Sandbox.CommitAsync("two", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "alpha", "counter");
        await WaitForCounterAsync(20, token);

        var stateFiller = stateFs.FillUp();
        var logsFiller = logsFs.FillUp();
        var stop = await Sandbox.ClientAsync(token, "stop", "alpha");
        Assert.That(stop.ExitCode, Is.EqualTo(1), stop.ToString);
        Assert.That(stop.Stderr, Does.Contain("Could not save the state, so alpha was not stopped").And.Contain("No space left on device"), stop.ToString);
        var status = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(status.Lines, Does.Contain("Status: running"), status.ToString);
        Assert.That(status.Lines.Any(l => l.StartsWith("State Error: ", StringComparison.Ordinal)), Is.True, status.ToString);

        // The counter goes on writing; once the log's last page is full too, its lines are dropped.
        long size = -1;
        while (new FileInfo(CounterLogPath).Length != size)
        {
            size = new FileInfo(CounterLogPath).Length;
            await Task.Delay(500, token);
        }

        File.Delete(stateFiller);
        File.Delete(logsFiller);
        var retried = await Sandbox.ClientAsync(token, "stop", "alpha");
        Assert.That(retried.ExitCode, Is.Zero, retried.ToString);
        Assert.That(ProcScan.IsAlive(before["alpha"]), Is.False);
        Assert.That(ProcScan.IsAlive(before["counter"]), Is.True, "the counter kept running while its log could not be written");

        // The counter's log: whole lines only, and where lines are missing, a marker saying exactly how many and why.
        var deadline = DateTime.UtcNow + GitProcSandbox.Deadline;
        List<string> lines;
        while (!(lines = File.ReadAllLines(CounterLogPath).ToList()).Any(l => l.Contains("gitproc: ", StringComparison.Ordinal)))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "no dropped-lines marker was written once space returned");
            await Task.Delay(50, token);
        }

        var expected = 1;
        foreach (var line in lines)
        {
            var marker = System.Text.RegularExpressions.Regex.Match(line, @"^\[[^\]]+\] gitproc: (\d+) lines dropped: No space left on device$");
            if (marker.Success)
            {
                expected += int.Parse(marker.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                continue;
            }

            Assert.That(line, Does.Match(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] n=\d+$"), "a whole stamped line");
            Assert.That(line, Does.EndWith($"] n={expected}"), "every line is there, or counted by a marker");
            expected++;
        }

        // Before the file systems go: the daemon's last state save lands on them.
        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero, Sandbox.DaemonOutput);
    }

    [Test]
    public async Task A_corrupt_object_in_the_applied_commit_does_not_keep_a_restarted_daemon_from_running_its_services(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"));
        await Sandbox.CommitAsync("two", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "alpha", "beta");
        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero);

        // Damage alpha's blob (a loose object) as a disk error would.
        var blob = await Sandbox.GitAsync(token, "rev-parse", "HEAD:alpha.service");
        var objectPath = Path.Combine(Sandbox.Repo, ".git", "objects", blob[..2], blob[2..]);
        File.SetAttributes(objectPath, FileAttributes.Normal);
        await File.WriteAllBytesAsync(objectPath, [1, 2, 3, 4, 5, 6, 7, 8], token);

        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "alpha", "beta");
        var status = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(status.Lines.Any(l => l.StartsWith("Git Error: ", StringComparison.Ordinal)), Is.True, status.ToString);
    }

    [Test]
    public async Task What_a_service_leaves_running_when_its_main_process_ends_is_stopped(CancellationToken token)
    {
        Assume.That(Environment.IsPrivilegedProcess, "needs root: without a cgroup a process that left the session cannot be found");
        var marker = "3601." + Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Sandbox.WriteUnit("forker", $"""
            [Service]
            ExecStart=/bin/sh -c 'setsid sleep {marker} & sleep 1; exit 0'

            """);
        await Sandbox.CommitAsync("forker", token);
        await Sandbox.StartDaemonAsync(token);
        Assert.That(await ProcScan.WaitUntilAsync(() => ProcScan.FindByCommandLine(marker).Count > 0, TimeSpan.FromSeconds(10)), Is.True);

        await Sandbox.WaitForListAsync(l => l["forker"].Status == "stopped", "forker's main process ends", token);
        Assert.That(
            await ProcScan.WaitUntilAsync(() => ProcScan.FindByCommandLine(marker).Count == 0, TimeSpan.FromSeconds(15)),
            Is.True,
            "the child that left the session was stopped with the service");
    }

    [Test]
    public async Task An_in_place_upgrade_keeps_every_service_and_every_line_and_status_answers_throughout(CancellationToken token)
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("GITPROC_RELIABILITY_UPGRADE_SERVICES"), System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 30;
        var names = Enumerable.Range(1, count).Select(i => $"s{i:000}").ToList();
        foreach (var name in names)
        {
            Sandbox.WriteUnit(name, Sandbox.Unit(name));
        }

        Sandbox.WriteUnit("counter", CounterLog.Unit(extra: "Restart=always\nRestartSec=0"));
        await Sandbox.CommitAsync("31 services", token);
        await Sandbox.StartDaemonAsync(token);
        var daemon = Sandbox.DaemonPid;
        var before = await Sandbox.WaitRunningAsync(token, [.. names, "counter"]);
        await WaitForCounterAsync(20, token);

        // Status is asked all through the upgrade, each time on a new connection, as scripts do.
        using var stopAsking = new CancellationTokenSource();
        var asking = AskStatusUntilAsync(stopAsking.Token);
        var upgrade = System.Diagnostics.Stopwatch.StartNew();
        _ = Interop.Processes.Kill(daemon, 1);
        Assert.That(
            await ProcScan.WaitUntilAsync(() => Occurrences(Sandbox.DaemonOutput, "Took over counter") == 1, GitProcSandbox.Deadline),
            Is.True,
            "the re-executed daemon took the services over\n" + Sandbox.DaemonOutput);
        var after = await Sandbox.WaitRunningAsync(token, [.. names, "counter"]);
        var upgradeMs = upgrade.Elapsed.TotalMilliseconds;
        await Task.Delay(200, token);
        await stopAsking.CancelAsync();
        var (answered, failures) = await asking;
        var lines = await WaitForCounterAsync(CounterNow() + 20, token);
        await ReportAsync("upgrade", new Dictionary<string, object>
        {
            ["services"] = count + 1,
            ["pids_changed"] = after.Count(p => before[p.Key] != p.Value),
            ["counter_lines"] = lines.Count,
            ["counter_lines_lost"] = lines[^1] - lines.Count,
            ["status_answered"] = answered,
            ["status_failed"] = failures.Count,
            ["sighup_to_all_running_ms"] = Math.Round(upgradeMs),
        });

        Assert.Multiple(() =>
        {
            Assert.That(Sandbox.DaemonPid, Is.EqualTo(daemon), "the daemon re-executed in place");
            Assert.That(after, Is.EqualTo(before), "no service restarted");
            Assert.That(failures, Is.Empty, "every status asked during the upgrade was answered");
            Assert.That(answered, Is.GreaterThan(0));
            Assert.That(Sandbox.DaemonOutput, Does.Contain("In-place upgrade: re-executing"));
        });
        CounterLog.AssertComplete(lines);

        // The services are still the daemon's children: an exit's status is exact.
        _ = Interop.Processes.Kill(after["counter"], 9);
        await Sandbox.WaitForListAsync(l => l["counter"] is { Status: "running", Pid: { } pid } && pid != after["counter"], "counter restarts", token);
        var status = await Sandbox.ClientAsync(token, "status", "counter");
        Assert.That(status.Lines, Does.Contain("Last Exit: killed by signal 9").And.Contain("Restarts: 1"), status.ToString);
    }

    [Test]
    public async Task The_reexec_command_answers_the_daemons_pid_then_upgrades_in_place(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        await Sandbox.CommitAsync("one", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "alpha");

        var reply = await Sandbox.RequestAsync("""{"command":"reexec"}""");
        Assert.That(reply.GetProperty("status").GetString(), Is.EqualTo("success"), reply.ToString);
        Assert.That(reply.GetProperty("data").GetProperty("pid").GetInt32(), Is.EqualTo(Sandbox.DaemonPid));
        Assert.That(
            await ProcScan.WaitUntilAsync(() => Occurrences(Sandbox.DaemonOutput, "Took over alpha") == 1, GitProcSandbox.Deadline),
            Is.True,
            Sandbox.DaemonOutput);
        Assert.That(await Sandbox.WaitRunningAsync(token, "alpha"), Is.EqualTo(before));

        // The locks came along: a second daemon is still refused.
        var second = await Sandbox.CliAsync(Sandbox.DaemonArguments, cancellationToken: token);
        Assert.That(second.ExitCode, Is.EqualTo(1), second.ToString);
        Assert.That(second.Stderr, Does.Contain(Sandbox.DaemonPid.ToString(System.Globalization.CultureInfo.InvariantCulture)), second.ToString);
    }

    private async Task<(int Answered, List<string> Failures)> AskStatusUntilAsync(CancellationToken stop)
    {
        var answered = 0;
        var failures = new List<string>();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var client = new GitProc.Ipc.GitProcClient(Sandbox.Socket);
                var status = await client.GetStatusAsync("counter", CancellationToken.None);
                if (status.State == "running")
                {
                    answered++;
                }
                else
                {
                    failures.Add($"state {status.State}");
                }
            }
            catch (GitProcException ex)
            {
                failures.Add(ex.Message);
            }

            await Task.Delay(10, CancellationToken.None);
        }

        return (answered, failures);
    }

    /// <summary>Writes figures for docs/reliability.md where GITPROC_RELIABILITY_REPORT names a file (bench/reliability.sh).</summary>
    private static async Task ReportAsync(string name, Dictionary<string, object> figures)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(figures);
        await TestContext.Out.WriteLineAsync($"{name}: {json}");
        if (Environment.GetEnvironmentVariable("GITPROC_RELIABILITY_REPORT") is { Length: > 0 } path)
        {
            await File.WriteAllTextAsync($"{path}.{name}.json", json);
        }
    }

    private static int Occurrences(string text, string what) =>
        (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;

    /// <summary>Sends one request; SIGKILLs the daemon the moment the answer arrives; returns the answer's pid, if any.</summary>
    private async Task<int?> RequestThenKillAsync(string request)
    {
        await using var client = await RawIpcClient.ConnectAsync(Sandbox.Socket);
        using var response = await client.RequestAsync(request);
        await Sandbox.KillDaemonAsync();
        Assert.That(response.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"), response.RootElement.ToString());
        return response.RootElement.GetProperty("data").TryGetProperty("pid", out var pid) ? pid.GetInt32() : null;
    }

    private string CounterLogPath => Path.Combine(Sandbox.Logs, "counter.log");

    private int CounterNow() => CounterLog.Values(CounterLogPath).DefaultIfEmpty(0).Max();

    private async Task<List<int>> WaitForCounterAsync(int atLeast, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + GitProcSandbox.Deadline;
        while (CounterNow() < atLeast)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the counter's log did not reach n={atLeast}\n{Sandbox.DaemonOutput}");
            await Task.Delay(50, token);
        }

        return CounterLog.Values(CounterLogPath);
    }
}
