using System.Runtime.Versioning;
using System.Text.Json;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// Host targeting with the real daemon and CLI (CONTRACT §12): daemons with different <c>HostName</c>s follow one remote
/// and each runs only the units whose <c>ConditionHost=</c> names it; the others show <c>stopped (condition)</c>; a pushed
/// commit moves a unit from one host to the other; <c>plan --host</c> says beforehand what another host would do.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class TargetingTests
{
    private GitProcSandbox _web = null!;
    private GitProcSandbox _db = null!;

    [SetUp]
    public async Task SetUp()
    {
        _web = await GitProcSandbox.CreateAsync(CancellationToken.None);
        _db = await GitProcSandbox.CreateAsync(CancellationToken.None);
    }

    [TearDown]
    public async Task TearDown()
    {
        // The db host runs the web sandbox's script: its services are found by the web sandbox's survivor check, last.
        await _db.DisposeAsync();
        await _web.DisposeAsync();
    }

    /// <summary>A unit both hosts can run: the web sandbox's script, with <paramref name="unitLines"/> under [Unit].</summary>
    private string Unit(string name, string unitLines = "") =>
        _web.Unit(name).Replace("[Unit]\n", $"[Unit]\n{unitLines}\n", StringComparison.Ordinal);

    [Test]
    public async Task Two_daemons_following_one_remote_each_run_only_their_units_and_a_push_moves_one_between_them(CancellationToken token)
    {
        var (url, upstream) = await _web.CreateRemoteAsync(token);
        _web.WriteUnit("common", Unit("common"), upstream);
        _web.WriteUnit("site", Unit("site", "ConditionHost=web-*"), upstream);
        _web.WriteUnit("postgres", Unit("postgres", "ConditionHost=db-*"), upstream);
        await _web.CommitAsync("common, site for web hosts, postgres for db hosts", token, upstream);
        await _web.GitInAsync(upstream, token, "push", "-q", "origin", "main");

        // Each daemon fetches once as it starts, then only on sync (the interval is an hour).
        var git = $$"""
            "Git": { "RemoteUrl": "{{url}}", "FetchInterval": "01:00:00" }
            """;
        await _web.WriteConfigAsync($"\"HostName\": \"web-1\", {git}", token);
        await _db.WriteConfigAsync($"\"HostName\": \"db-1\", {git}", token);
        await _web.StartDaemonAsync(token);
        await _db.StartDaemonAsync(token);
        var onWeb = await _web.WaitRunningAsync(token, "common", "site");
        await _db.WaitRunningAsync(token, "common", "postgres");

        var list = await _web.ClientAsync(token, "list");
        Assert.That(list.Lines, Is.EqualTo(new[]
        {
            "Available services:",
            $"  common (running, PID: {onWeb["common"]})",
            "  postgres (stopped (condition))",
            $"  site (running, PID: {onWeb["site"]})",
        }), list.ToString);
        Assert.That((await _db.ListAsync())["site"].Status, Is.EqualTo("stopped"));

        var status = await _web.ClientAsync(token, "status", "postgres");
        Assert.That(status.Lines, Does.Contain("Status: stopped").And.Contain("Sub-State: condition")
            .And.Contain("Condition: ConditionHost=db-* is not met on host web-1").And.None.StartsWith("PID:"), status.ToString);
        var json = await _web.ClientAsync(token, "status", "postgres", "--json");
        using (var data = JsonDocument.Parse(json.Stdout))
        {
            Assert.That(data.RootElement.GetProperty("sub_state").GetString(), Is.EqualTo("condition"));
            Assert.That(data.RootElement.GetProperty("unmet_condition").GetString(), Is.EqualTo("ConditionHost=db-* is not met on host web-1"));
        }

        var listJson = await _web.ClientAsync(token, "list", "--json");
        using (var data = JsonDocument.Parse(listJson.Stdout))
        {
            var postgres = data.RootElement.GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "postgres");
            Assert.That((postgres.GetProperty("status").GetString(), postgres.GetProperty("sub_state").GetString()), Is.EqualTo(("stopped", "condition")));
        }

        // An operator cannot start here what is meant for other hosts, and is told why.
        var start = await _web.ClientAsync(token, "start", "postgres", "--json");
        Assert.That(start.ExitCode, Is.EqualTo(1), start.ToString);
        Assert.That(start.Stderr, Is.EqualTo("Error: Service postgres was not started: ConditionHost=db-* is not met on host web-1\n"));
        using (var data = JsonDocument.Parse(start.Stdout))
        {
            Assert.That(data.RootElement.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("condition_failed"));
        }

        // A commit moves the site from web hosts to db hosts: stopped on the one, started on the other.
        _web.WriteUnit("site", Unit("site", "ConditionHost=db-*"), upstream);
        await _web.CommitAsync("site moves to db hosts", token, upstream);
        await _web.GitInAsync(upstream, token, "push", "-q", "origin", "main");
        var webSync = await _web.ClientAsync(token, "sync", "--json");
        var dbSync = await _db.ClientAsync(token, "sync", "--json");

        using (var data = JsonDocument.Parse(webSync.Stdout))
        {
            Assert.That(data.RootElement.GetProperty("stopped").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "site" }), webSync.ToString);
        }

        using (var data = JsonDocument.Parse(dbSync.Stdout))
        {
            Assert.That(data.RootElement.GetProperty("started").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "site" }), dbSync.ToString);
        }

        Assert.That(ProcScan.IsAlive(onWeb["site"]), Is.False, "the web host's site process is gone");
        Assert.That((await _web.ListAsync())["site"].Status, Is.EqualTo("stopped"));
        Assert.That((await _web.StatusAsync("site")).GetProperty("sub_state").GetString(), Is.EqualTo("condition"));
        var onDb = await _db.WaitRunningAsync(token, "common", "postgres", "site");
        Assert.That((await _web.ListAsync())["common"].Pid, Is.EqualTo(onWeb["common"]), "what runs everywhere was not touched");
        Assert.That(onDb, Has.Count.EqualTo(3));
    }

    [Test]
    public async Task Plan_with_host_shows_what_another_host_would_do_with_a_commit(CancellationToken token)
    {
        _web.WriteUnit("common", Unit("common"));
        _web.WriteUnit("site", Unit("site", "ConditionHost=web-*"));
        _web.WriteUnit("postgres", Unit("postgres", "ConditionHost=db-*"));
        await _web.CommitAsync("fleet", token);
        await _web.WriteConfigAsync("\"HostName\": \"web-1\"", token);
        await _web.StartDaemonAsync(token);
        await _web.WaitRunningAsync(token, "common", "site");

        // The next commit, on a branch the daemon does not watch: planned, not applied.
        await _web.GitAsync(token, "checkout", "-q", "-b", "next");
        _web.WriteUnit("postgres", Unit("postgres", "ConditionHost=db-*").Replace("[Service]\n", "[Service]\nEnvironment=V=2\n", StringComparison.Ordinal));
        _web.WriteUnit("cache", Unit("cache", "ConditionHost=db-*"));
        var next = await _web.CommitAsync("postgres v2, a cache for db hosts", token);
        await _web.GitAsync(token, "checkout", "-q", "main");
        var shortSha = next[..7];

        var there = await _web.ClientAsync(token, "plan", "next", "--host", "db-1");
        var here = await _web.ClientAsync(token, "plan", "next");

        Assert.That(there.ExitCode, Is.Zero, there.ToString);
        Assert.That(there.Lines, Is.EqualTo(new[]
        {
            $"Plan for {shortSha} on host db-1:",
            "  start cache",
            "  unchanged common",
            "  restart postgres (changed: Environment)",
            "  unchanged site [ConditionHost=web-* is not met on host db-1]",
        }), there.ToString);
        Assert.That(here.Lines, Is.EqualTo(new[]
        {
            $"Plan for {shortSha}:",
            "  unchanged cache [ConditionHost=db-* is not met on host web-1]",
            "  unchanged common",
            "  unchanged postgres [ConditionHost=db-* is not met on host web-1]",
            "  unchanged site",
        }), here.ToString);

        var json = await _web.ClientAsync(token, "plan", "next", "--host", "db-1", "--json");
        Assert.That(json.ExitCode, Is.Zero, json.ToString);
        using (var data = JsonDocument.Parse(json.Stdout))
        {
            var root = data.RootElement;
            Assert.That((root.GetProperty("commit").GetString(), root.GetProperty("host").GetString()), Is.EqualTo((next, "db-1")));
            var site = root.GetProperty("actions").EnumerateArray().Single(a => a.GetProperty("service").GetString() == "site");
            Assert.That(site.GetProperty("action").GetString(), Is.EqualTo("unchanged"));
            Assert.That(site.GetProperty("reason").GetString(), Is.EqualTo("ConditionHost=web-* is not met on host db-1"));
        }

        var usage = await _web.ClientAsync(token, "plan", "--machine-id", "0123456789abcdef0123456789abcdef");
        Assert.That(usage.ExitCode, Is.EqualTo(2), usage.ToString);
        var badHost = await _web.ClientAsync(token, "plan", "--host", "db 1");
        Assert.That(badHost.ExitCode, Is.EqualTo(1), badHost.ToString);
        Assert.That(badHost.Stderr, Is.EqualTo("Error: invalid value for args.host: a host name has 1 to 255 characters and no spaces\n"));

        // The plan for the daemon's own host is what the apply then does.
        await _web.GitAsync(token, "merge", "-q", "--ff-only", "next");
        var sync = await _web.ClientAsync(token, "sync");
        Assert.That(sync.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 0 services" }), sync.ToString);
    }
}
