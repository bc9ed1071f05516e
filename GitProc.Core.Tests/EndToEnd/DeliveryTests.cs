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
public sealed class DeliveryTests
{
    private const string Window = "00:00:03";
    private static readonly TimeSpan WindowSpan = TimeSpan.FromSeconds(3);

    private GitProcSandbox _sandbox = null!;

    [SetUp]
    public async Task SetUp()
    {
        _sandbox = await GitProcSandbox.CreateAsync(CancellationToken.None);
        await _sandbox.WriteConfigAsync($$"""
            "Delivery": { "VerifyWindow": "{{Window}}" }
            """);
    }

    [TearDown]
    public async Task TearDown() => await _sandbox.DisposeAsync();

    private string CrashingUnit(string name) => $"""
        [Unit]
        Description=broken {name}

        [Service]
        ExecStart=/bin/sh -c 'echo starting {_sandbox.SleepSeconds}; exit 3'
        Restart=on-failure
        RestartSec=100ms

        """;

    [Test]
    public async Task A_commit_whose_service_crash_loops_is_rolled_back_and_never_applied_again_and_the_next_good_one_applies(CancellationToken token)
    {
        _sandbox.WriteUnit("web", _sandbox.Unit("web", "Restart=on-failure\nRestartSec=100ms"));
        _sandbox.WriteUnit("worker", _sandbox.Unit("worker"));
        var good = await _sandbox.CommitAsync("web and worker", token);
        await _sandbox.StartDaemonAsync(token);
        var before = await _sandbox.WaitRunningAsync(token, "web", "worker");
        await WaitForResultAsync(good, "applied", token);

        _sandbox.WriteUnit("web", CrashingUnit("web"));
        var bad = await _sandbox.CommitAsync("break web", token);
        var clock = Stopwatch.StartNew();
        var list = await _sandbox.WaitForListAsync(
            l => l["web"] is { Status: "running", Pid: { } pid } && pid != before["web"] && IsOriginalWeb(pid),
            "the previous web runs again",
            token);
        Assert.That(clock.Elapsed, Is.LessThan(WindowSpan + TimeSpan.FromSeconds(5)), "rolled back within the verify window (and slack for a loaded machine)");
        Assert.That(list["worker"].Pid, Is.EqualTo(before["worker"]), "a service the commit did not change is not touched");

        var record = await WaitForResultAsync(bad, "rolled back", token);
        Assert.That(record.GetProperty("rollback_reason").GetString(), Does.Contain("web"));
        Assert.That(record.GetProperty("restored_commit").GetString(), Is.EqualTo(good));
        var history = await _sandbox.ClientAsync(token, "history", "-n", "2");
        Assert.That(history.Lines[0], Does.StartWith($"{bad[..7]}  ").And.Contain("  rolled back  ").And.Contain("break web"), history.ToString);
        Assert.That(history.Lines[1], Does.StartWith("    rolled back to " + good[..7]), history.ToString);
        var status = await _sandbox.ClientAsync(token, "status", "web");
        Assert.That(status.Lines, Has.Some.StartsWith($"Rolled Back: {bad[..7]}"), status.ToString);
        var listed = await _sandbox.ClientAsync(token, "list");
        Assert.That(listed.Lines[^1], Does.StartWith($"Rolled back: {bad[..7]}"), listed.ToString);
        var sync = await _sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.Stderr, Does.Contain("rolled back").And.Contain("not applied again"), sync.ToString);

        // A daemon restart does not apply it again: the good version runs.
        Assert.That(await _sandbox.StopDaemonAsync(), Is.Zero);
        await _sandbox.StartDaemonAsync(token);
        var restarted = await _sandbox.WaitRunningAsync(token, "web", "worker");
        Assert.That(IsOriginalWeb(restarted["web"]), Is.True, "after a restart the rolled-back commit is still not applied");

        // The next good commit applies and is verified.
        _sandbox.WriteUnit("web", _sandbox.Unit("web", "Restart=on-failure\nRestartSec=100ms\nEnvironment=FIXED=1"));
        var fixedCommit = await _sandbox.CommitAsync("fix web", token);
        await WaitForResultAsync(fixedCommit, "applied", token);
        var fixedList = await _sandbox.WaitRunningAsync(token, "web");
        Assert.That(await File.ReadAllTextAsync($"/proc/{fixedList["web"]}/environ", token), Does.Contain("FIXED=1\0"));
    }

    [Test]
    public async Task A_commit_whose_health_endpoint_never_answers_is_rolled_back_at_the_end_of_its_window(CancellationToken token)
    {
        _sandbox.WriteUnit("api", _sandbox.Unit("api"));
        var good = await _sandbox.CommitAsync("api", token);
        await _sandbox.StartDaemonAsync(token);
        await WaitForResultAsync(good, "applied", token);

        // Nothing listens on port 9: every check fails, but the process runs fine.
        _sandbox.WriteUnit("api", _sandbox.Unit("api", "HealthCheckURL=http://127.0.0.1:9/health\nHealthCheckInterval=500ms\nHealthCheckTimeout=200ms\nHealthCheckRetries=50"));
        var bad = await _sandbox.CommitAsync("api with a health check", token);
        var record = await WaitForResultAsync(bad, "rolled back", token);
        Assert.That(record.GetProperty("rollback_reason").GetString(), Does.Contain("api").And.Contain("healthy"), record.ToString());
    }

    [Test]
    public async Task Sync_wait_reports_the_verdict_and_a_superseded_commit_gives_way_to_the_next(CancellationToken token)
    {
        _sandbox.WriteUnit("one", _sandbox.Unit("one"));
        await _sandbox.CommitAsync("one", token);
        await _sandbox.StartDaemonAsync(token);
        await _sandbox.WaitRunningAsync(token, "one");

        _sandbox.WriteUnit("two", _sandbox.Unit("two"));
        var second = await _sandbox.CommitAsync("two", token);
        var sync = await _sandbox.ClientAsync(token, "sync", "--wait");
        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        Assert.That(sync.Lines[0], Is.EqualTo("Synced with Git repository"));
        Assert.That(sync.Lines, Does.Contain($"Verified: {second[..7]}"), sync.ToString);

        // A commit still on trial is superseded by the next.
        _sandbox.WriteUnit("three", _sandbox.Unit("three"));
        var third = await _sandbox.CommitAsync("three", token);
        await WaitForResultAsync(third, "verifying", token);
        _sandbox.WriteUnit("four", _sandbox.Unit("four"));
        var fourth = await _sandbox.CommitAsync("four", token);
        await WaitForResultAsync(third, "superseded", token);
        await WaitForResultAsync(fourth, "applied", token);
    }

    [Test]
    public async Task Plan_says_what_the_apply_then_does(CancellationToken token)
    {
        _sandbox.WriteUnit("db", _sandbox.Unit("db"));
        _sandbox.WriteUnit("app", _sandbox.Unit("app").Replace("[Service]", "Requires=db\n[Service]"));
        _sandbox.WriteUnit("old", _sandbox.Unit("old"));
        await _sandbox.CommitAsync("three", token);
        await _sandbox.StartDaemonAsync(token);
        await _sandbox.WaitRunningAsync(token, "db", "app", "old");

        // db is stopped by an operator; the next commit changes app (which needs db), removes old, adds new.
        Assert.That((await _sandbox.ClientAsync(token, "stop", "db")).ExitCode, Is.Zero);
        await _sandbox.GitAsync(token, "checkout", "-q", "-b", "next");
        _sandbox.WriteUnit("app", _sandbox.Unit("app", "Environment=V=2").Replace("[Service]", "Requires=db\n[Service]"));
        _sandbox.RemoveUnit("old");
        _sandbox.WriteUnit("new", _sandbox.Unit("new"));
        var next = await _sandbox.CommitAsync("next", token);
        await _sandbox.GitAsync(token, "checkout", "-q", "main");

        var plan = await _sandbox.ClientAsync(token, "plan", next);
        Assert.That(plan.ExitCode, Is.Zero, plan.ToString);
        Assert.That(plan.Lines, Is.EqualTo(new[]
        {
            $"Plan for {next[..7]}:",
            "  restart app (changed: Environment)",
            "  unchanged db [stopped by an operator]",
            "  start new",
            "  stop old",
        }), plan.ToString);

        await _sandbox.GitAsync(token, "merge", "-q", "--ff-only", "next");
        var sync = await _sandbox.RequestAsync("""{"command":"sync"}""");
        var data = sync.GetProperty("data");
        Assert.That(data.GetProperty("started").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "new" }));
        Assert.That(data.GetProperty("restarted").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "app" }));
        Assert.That(data.GetProperty("stopped").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "old" }));

        // A commit that would be rejected: exit 1 and the reason.
        _sandbox.WriteUnit("bad", "[Service]\nRestart=always\n");
        var broken = await _sandbox.CommitAsync("no ExecStart", token);
        var rejected = await _sandbox.ClientAsync(token, "plan", broken);
        Assert.That(rejected.ExitCode, Is.EqualTo(1), rejected.ToString);
        Assert.That(rejected.Stderr, Does.Contain("would be rejected").And.Contain("bad.service"), rejected.ToString);
        var json = await _sandbox.ClientAsync(token, "plan", broken, "--json");
        using var parsed = JsonDocument.Parse(json.Stdout);
        Assert.That(parsed.RootElement.GetProperty("errors").GetArrayLength(), Is.GreaterThan(0), json.ToString);
    }

    [Test]
    public async Task A_daemon_restart_keeps_the_applied_commits_record_as_it_was(CancellationToken token)
    {
        _sandbox.WriteUnit("one", _sandbox.Unit("one"));
        var commit = await _sandbox.CommitAsync("one", token);
        await _sandbox.StartDaemonAsync(token);
        var before = await WaitForResultAsync(commit, "applied", token);
        Assert.That(before.GetProperty("started").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "one" }));

        Assert.That(await _sandbox.StopDaemonAsync(), Is.Zero);
        await _sandbox.StartDaemonAsync(token);
        await _sandbox.WaitRunningAsync(token, "one");
        var history = await _sandbox.RequestAsync("""{"command":"history"}""");
        var records = history.GetProperty("data").GetProperty("records");
        Assert.That(records.GetArrayLength(), Is.EqualTo(1), history.ToString());
        Assert.That(records[0].ToString(), Is.EqualTo(before.ToString()), "what the commit did when it was applied, not what the restart did");
    }

    [Test]
    public async Task A_commit_that_removes_every_unit_is_refused_and_the_services_keep_running(CancellationToken token)
    {
        _sandbox.WriteUnit("one", _sandbox.Unit("one"));
        _sandbox.WriteUnit("two", _sandbox.Unit("two"));
        await _sandbox.CommitAsync("two services", token);
        await _sandbox.StartDaemonAsync(token);
        var before = await _sandbox.WaitRunningAsync(token, "one", "two");

        _sandbox.RemoveUnit("one");
        _sandbox.RemoveUnit("two");
        var empty = await _sandbox.CommitAsync("remove everything", token);
        var plan = await _sandbox.ClientAsync(token, "plan");
        Assert.That(plan.ExitCode, Is.EqualTo(1), plan.ToString);
        Assert.That(plan.Stderr, Does.Contain("removes every unit (2 services would stop)").And.Contain("Delivery:AllowEmpty"), plan.ToString);

        var sync = await _sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.Stderr, Does.Contain($"Commit {empty[..7]} rejected, nothing applied").And.Contain("removes every unit"), sync.ToString);
        var record = await WaitForResultAsync(empty, "rejected", token);
        Assert.That(record.GetProperty("errors")[0].GetString(), Does.Contain("removes every unit"));
        var after = await _sandbox.ListAsync();
        Assert.That(after["one"].Pid, Is.EqualTo(before["one"]));
        Assert.That(after["two"].Pid, Is.EqualTo(before["two"]));

        // An operator who means it says so, and the same commit then stops everything.
        Assert.That(await _sandbox.StopDaemonAsync(), Is.Zero);
        await _sandbox.WriteConfigAsync($$"""
            "Delivery": { "VerifyWindow": "{{Window}}", "AllowEmpty": true }
            """, token);
        await _sandbox.StartDaemonAsync(token);
        await WaitForResultAsync(empty, "applied", token);
        Assert.That(await _sandbox.ListAsync(), Is.Empty);
    }

    [Test]
    public async Task A_rollback_commit_that_fails_verification_is_itself_rolled_back_to_what_ran_before(CancellationToken token)
    {
        // The first version needs a file that later goes away, so going back to it fails.
        var marker = Path.Combine(_sandbox.Root, "v1-config");
        await File.WriteAllTextAsync(marker, "v1", token);
        _sandbox.WriteUnit("web", $"""
            [Service]
            ExecStart=/bin/sh -c 'test -f {marker} || exit 3; exec sleep {_sandbox.SleepSeconds}'
            Restart=on-failure
            RestartSec=100ms

            """);
        var first = await _sandbox.CommitAsync("web v1", token);
        await _sandbox.StartDaemonAsync(token);
        await WaitForResultAsync(first, "applied", token);

        _sandbox.WriteUnit("web", _sandbox.Unit("web", "Restart=on-failure\nRestartSec=100ms"));
        var second = await _sandbox.CommitAsync("web v2", token);
        await WaitForResultAsync(second, "applied", token);
        var v2 = (await _sandbox.WaitRunningAsync(token, "web"))["web"];
        File.Delete(marker);

        var rollback = await _sandbox.ClientAsync(token, "rollback", first);
        Assert.That(rollback.ExitCode, Is.Zero, rollback.ToString);
        var created = (await _sandbox.GitAsync(token, "rev-parse", "HEAD")).Trim();
        var record = await WaitForResultAsync(created, "rolled back", token);
        Assert.That(record.GetProperty("subject").GetString(), Is.EqualTo($"Rollback to {first[..7]}"));
        Assert.That(record.GetProperty("restored_commit").GetString(), Is.EqualTo(second));
        Assert.That(record.GetProperty("rollback_reason").GetString(), Does.StartWith("web "));
        var web = await _sandbox.WaitForListAsync(l => l["web"] is { Status: "running", Pid: { } pid } && pid != v2 && IsOriginalWeb(pid), "v2 runs again", token);
        Assert.That(web["web"].Status, Is.EqualTo("running"));
    }

    /// <summary>The original web unit's process (a sandbox script) rather than the broken one, which may be gone already.</summary>
    private bool IsOriginalWeb(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains($"service.sh\0web\0{_sandbox.SleepSeconds}", StringComparison.Ordinal);
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
            var response = await _sandbox.RequestAsync("""{"command":"history"}""");
            var record = response.GetProperty("data").GetProperty("records").EnumerateArray()
                .FirstOrDefault(r => r.GetProperty("commit").GetString() == commit);
            if (record.ValueKind == JsonValueKind.Object && record.GetProperty("result").GetString() == result)
            {
                return record.Clone();
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{commit[..7]} never became '{result}'; history: {response}\n{_sandbox.DaemonOutput}");
            }

            await Task.Delay(100, token);
        }
    }
}
