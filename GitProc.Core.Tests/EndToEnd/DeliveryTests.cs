using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.Json;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// A commit cannot silently do the wrong thing (CONTRACT §10), with the real daemon, Git repository and CLI: a commit
/// whose service crash-loops or never becomes healthy is rolled back within its verify window and never applied
/// again; <c>plan</c> says what an apply then does; <c>history</c> tells what became of each commit.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class DeliveryTests : SandboxFixture
{
    private const string Window = "00:00:03";
    private static readonly TimeSpan WindowSpan = TimeSpan.FromSeconds(3);

    [SetUp]
    public async Task SetUp()
    {
        await Sandbox.WriteConfigAsync($$"""
            "Delivery": { "VerifyWindow": "{{Window}}" }
            """);
    }

    private string CrashingUnit(string name) => $"""
        [Unit]
        Description=broken {name}

        [Service]
        ExecStart=/bin/sh -c 'echo starting {Sandbox.SleepSeconds}; exit 3'
        Restart=on-failure
        RestartSec=100ms

        """;

    [Test]
    public async Task A_commit_whose_service_crash_loops_is_rolled_back_and_never_applied_again_and_the_next_good_one_applies(CancellationToken token)
    {
        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restart=on-failure\nRestartSec=100ms"));
        Sandbox.WriteUnit("worker", Sandbox.Unit("worker"));
        var good = await Sandbox.CommitAsync("web and worker", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "web", "worker");
        await WaitForResultAsync(good, "applied", token);

        Sandbox.WriteUnit("web", CrashingUnit("web"));
        var bad = await Sandbox.CommitAsync("break web", token);
        var clock = Stopwatch.StartNew();
        var list = await Sandbox.WaitForListAsync(
            l => l["web"] is { Status: "running", Pid: { } pid } && pid != before["web"] && IsOriginalWeb(pid),
            "the previous web runs again",
            token);
        Assert.That(clock.Elapsed, Is.LessThan(WindowSpan + TimeSpan.FromSeconds(5)), "rolled back within the verify window (and slack for a loaded machine)");
        Assert.That(list["worker"].Pid, Is.EqualTo(before["worker"]), "a service the commit did not change is not touched");

        var record = await WaitForResultAsync(bad, "rolled back", token);
        Assert.That(record.GetProperty("rollback_reason").GetString(), Does.Contain("web"));
        Assert.That(record.GetProperty("restored_commit").GetString(), Is.EqualTo(good));
        var history = await Sandbox.ClientAsync(token, "history", "-n", "2");
        Assert.That(history.Lines[0], Does.StartWith($"{bad[..7]}  ").And.Contain("  rolled back  ").And.Contain("break web"), history.ToString);
        Assert.That(history.Lines[1], Does.StartWith("    rolled back to " + good[..7]), history.ToString);
        var status = await Sandbox.ClientAsync(token, "status", "web");
        Assert.That(status.Lines, Has.Some.StartsWith($"Rolled Back: {bad[..7]}"), status.ToString);
        var listed = await Sandbox.ClientAsync(token, "list");
        Assert.That(listed.Lines[^1], Does.StartWith($"Rolled back: {bad[..7]}"), listed.ToString);
        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.Stderr, Does.Contain("rolled back").And.Contain("not applied again"), sync.ToString);

        // A daemon restart does not apply it again: the good version runs.
        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero);
        await Sandbox.StartDaemonAsync(token);
        var restarted = await Sandbox.WaitRunningAsync(token, "web", "worker");
        Assert.That(IsOriginalWeb(restarted["web"]), Is.True, "after a restart the rolled-back commit is still not applied");

        // The next good commit applies and is verified.
        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restart=on-failure\nRestartSec=100ms\nEnvironment=FIXED=1"));
        var fixedCommit = await Sandbox.CommitAsync("fix web", token);
        await WaitForResultAsync(fixedCommit, "applied", token);
        var fixedList = await Sandbox.WaitRunningAsync(token, "web");
        Assert.That(await File.ReadAllTextAsync($"/proc/{fixedList["web"]}/environ", token), Does.Contain("FIXED=1\0"));
    }

    [Test]
    public async Task A_commit_whose_health_endpoint_never_answers_is_rolled_back_at_the_end_of_its_window(CancellationToken token)
    {
        Sandbox.WriteUnit("api", Sandbox.Unit("api"));
        var good = await Sandbox.CommitAsync("api", token);
        await Sandbox.StartDaemonAsync(token);
        await WaitForResultAsync(good, "applied", token);

        // Nothing listens on port 9: every check fails, but the process runs fine.
        Sandbox.WriteUnit("api", Sandbox.Unit("api", "HealthCheckURL=http://127.0.0.1:9/health\nHealthCheckInterval=500ms\nHealthCheckTimeout=200ms\nHealthCheckRetries=50"));
        var bad = await Sandbox.CommitAsync("api with a health check", token);
        var record = await WaitForResultAsync(bad, "rolled back", token);
        Assert.That(record.GetProperty("rollback_reason").GetString(), Does.Contain("api").And.Contain("healthy"), record.ToString());
    }

    [Test]
    public async Task Sync_wait_reports_the_verdict_and_a_superseded_commit_gives_way_to_the_next(CancellationToken token)
    {
        Sandbox.WriteUnit("one", Sandbox.Unit("one"));
        await Sandbox.CommitAsync("one", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "one");

        Sandbox.WriteUnit("two", Sandbox.Unit("two"));
        var second = await Sandbox.CommitAsync("two", token);
        var sync = await Sandbox.ClientAsync(token, "sync", "--wait");
        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        Assert.That(sync.Lines[0], Is.EqualTo("Synced with Git repository"));
        Assert.That(sync.Lines, Does.Contain($"Verified: {second[..7]}"), sync.ToString);

        // A commit still on trial is superseded by the next.
        Sandbox.WriteUnit("three", Sandbox.Unit("three"));
        var third = await Sandbox.CommitAsync("three", token);
        await WaitForResultAsync(third, "verifying", token);
        Sandbox.WriteUnit("four", Sandbox.Unit("four"));
        var fourth = await Sandbox.CommitAsync("four", token);
        await WaitForResultAsync(third, "superseded", token);
        await WaitForResultAsync(fourth, "applied", token);
    }

    [Test]
    public async Task Plan_says_what_the_apply_then_does(CancellationToken token)
    {
        Sandbox.WriteUnit("db", Sandbox.Unit("db"));
        Sandbox.WriteUnit("app", Sandbox.Unit("app").Replace("[Service]", "Requires=db\n[Service]"));
        Sandbox.WriteUnit("old", Sandbox.Unit("old"));
        await Sandbox.CommitAsync("three", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "db", "app", "old");

        // db is stopped by an operator; the next commit changes app (which needs db), removes old, adds new.
        Assert.That((await Sandbox.ClientAsync(token, "stop", "db")).ExitCode, Is.Zero);
        await Sandbox.GitAsync(token, "checkout", "-q", "-b", "next");
        Sandbox.WriteUnit("app", Sandbox.Unit("app", "Environment=V=2").Replace("[Service]", "Requires=db\n[Service]"));
        Sandbox.RemoveUnit("old");
        Sandbox.WriteUnit("new", Sandbox.Unit("new"));
        var next = await Sandbox.CommitAsync("next", token);
        await Sandbox.GitAsync(token, "checkout", "-q", "main");

        var plan = await Sandbox.ClientAsync(token, "plan", next);
        Assert.That(plan.ExitCode, Is.Zero, plan.ToString);
        Assert.That(plan.Lines, Is.EqualTo(new[]
        {
            $"Plan for {next[..7]}:",
            "  restart app (changed: Environment)",
            "  unchanged db [stopped by an operator]",
            "  start new",
            "  stop old",
        }), plan.ToString);

        await Sandbox.GitAsync(token, "merge", "-q", "--ff-only", "next");
        var sync = await Sandbox.RequestAsync("""{"command":"sync"}""");
        var data = sync.GetProperty("data");
        Assert.That(data.GetProperty("started").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "new" }));
        Assert.That(data.GetProperty("restarted").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "app" }));
        Assert.That(data.GetProperty("stopped").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "old" }));

        // A commit that would be rejected: exit 1 and the reason.
        Sandbox.WriteUnit("bad", "[Service]\nRestart=always\n");
        var broken = await Sandbox.CommitAsync("no ExecStart", token);
        var rejected = await Sandbox.ClientAsync(token, "plan", broken);
        Assert.That(rejected.ExitCode, Is.EqualTo(1), rejected.ToString);
        Assert.That(rejected.Stderr, Does.Contain("would be rejected").And.Contain("bad.service"), rejected.ToString);
        var json = await Sandbox.ClientAsync(token, "plan", broken, "--json");
        using var parsed = JsonDocument.Parse(json.Stdout);
        Assert.That(parsed.RootElement.GetProperty("errors").GetArrayLength(), Is.GreaterThan(0), json.ToString);
    }

    [Test]
    public async Task A_daemon_restart_keeps_the_applied_commits_record_as_it_was(CancellationToken token)
    {
        Sandbox.WriteUnit("one", Sandbox.Unit("one"));
        var commit = await Sandbox.CommitAsync("one", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await WaitForResultAsync(commit, "applied", token);
        Assert.That(before.GetProperty("started").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "one" }));

        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "one");
        var history = await Sandbox.RequestAsync("""{"command":"history"}""");
        var records = history.GetProperty("data").GetProperty("records");
        Assert.That(records.GetArrayLength(), Is.EqualTo(1), history.ToString());
        Assert.That(records[0].ToString(), Is.EqualTo(before.ToString()), "what the commit did when it was applied, not what the restart did");
    }

    [Test]
    public async Task A_commit_that_removes_every_unit_is_refused_and_the_services_keep_running(CancellationToken token)
    {
        Sandbox.WriteUnit("one", Sandbox.Unit("one"));
        Sandbox.WriteUnit("two", Sandbox.Unit("two"));
        await Sandbox.CommitAsync("two services", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "one", "two");

        Sandbox.RemoveUnit("one");
        Sandbox.RemoveUnit("two");
        var empty = await Sandbox.CommitAsync("remove everything", token);
        var plan = await Sandbox.ClientAsync(token, "plan");
        Assert.That(plan.ExitCode, Is.EqualTo(1), plan.ToString);
        Assert.That(plan.Stderr, Does.Contain("removes every unit (2 services would stop)").And.Contain("Delivery:AllowEmpty"), plan.ToString);

        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.Stderr, Does.Contain($"Commit {empty[..7]} rejected, nothing applied").And.Contain("removes every unit"), sync.ToString);
        var record = await WaitForResultAsync(empty, "rejected", token);
        Assert.That(record.GetProperty("errors")[0].GetString(), Does.Contain("removes every unit"));
        var after = await Sandbox.ListAsync();
        Assert.That(after["one"].Pid, Is.EqualTo(before["one"]));
        Assert.That(after["two"].Pid, Is.EqualTo(before["two"]));

        // An operator who means it says so, and the same commit then stops everything.
        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero);
        await Sandbox.WriteConfigAsync($$"""
            "Delivery": { "VerifyWindow": "{{Window}}", "AllowEmpty": true }
            """, token);
        await Sandbox.StartDaemonAsync(token);
        await WaitForResultAsync(empty, "applied", token);
        Assert.That(await Sandbox.ListAsync(), Is.Empty);
    }

    [Test]
    public async Task A_rollback_commit_that_fails_verification_is_itself_rolled_back_to_what_ran_before(CancellationToken token)
    {
        // The first version needs a file that later goes away, so going back to it fails.
        var marker = Path.Combine(Sandbox.Root, "v1-config");
        await File.WriteAllTextAsync(marker, "v1", token);
        Sandbox.WriteUnit("web", $"""
            [Service]
            ExecStart=/bin/sh -c 'test -f {marker} || exit 3; exec sleep {Sandbox.SleepSeconds}'
            Restart=on-failure
            RestartSec=100ms

            """);
        var first = await Sandbox.CommitAsync("web v1", token);
        await Sandbox.StartDaemonAsync(token);
        await WaitForResultAsync(first, "applied", token);

        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restart=on-failure\nRestartSec=100ms"));
        var second = await Sandbox.CommitAsync("web v2", token);
        await WaitForResultAsync(second, "applied", token);
        var v2 = (await Sandbox.WaitRunningAsync(token, "web"))["web"];
        File.Delete(marker);

        var rollback = await Sandbox.ClientAsync(token, "rollback", first);
        Assert.That(rollback.ExitCode, Is.Zero, rollback.ToString);
        var created = (await Sandbox.GitAsync(token, "rev-parse", "HEAD")).Trim();
        var record = await WaitForResultAsync(created, "rolled back", token);
        Assert.That(record.GetProperty("subject").GetString(), Is.EqualTo($"Rollback to {first[..7]}"));
        Assert.That(record.GetProperty("restored_commit").GetString(), Is.EqualTo(second));
        Assert.That(record.GetProperty("rollback_reason").GetString(), Does.StartWith("web "));
        var web = await Sandbox.WaitForListAsync(l => l["web"] is { Status: "running", Pid: { } pid } && pid != v2 && IsOriginalWeb(pid), "v2 runs again", token);
        Assert.That(web["web"].Status, Is.EqualTo("running"));
    }

    /// <summary>The original web unit's process (a sandbox script) rather than the broken one, which may be gone already.</summary>
    private bool IsOriginalWeb(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains($"service.sh\0web\0{Sandbox.SleepSeconds}", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            // The crashing version's process, gone between the listing and this read.
            return false;
        }
    }

    /// <summary>Polls <c>history --json</c> until <paramref name="commit"/>'s result is <paramref name="result"/>; returns its record.</summary>
    private async Task<JsonElement> WaitForResultAsync(string commit, string result, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + WindowSpan + GitProcSandbox.Deadline;
        while (true)
        {
            var response = await Sandbox.RequestAsync("""{"command":"history"}""");
            var record = response.GetProperty("data").GetProperty("records").EnumerateArray()
                .FirstOrDefault(r => r.GetProperty("commit").GetString() == commit);
            if (record.ValueKind == JsonValueKind.Object && record.GetProperty("result").GetString() == result)
            {
                return record.Clone();
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{commit[..7]} never became '{result}'; history: {response}\n{Sandbox.DaemonOutput}");
            }

            await Task.Delay(100, token);
        }
    }
}
