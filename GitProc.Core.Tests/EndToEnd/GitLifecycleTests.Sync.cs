using System.Text.Json;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>gitproc sync</c> with the real daemon, Git repositories and CLI (CONTRACT §6): it fetches the remote first, answers
/// once the apply has finished, reports exactly what it started, restarted and stopped, and lists the applied commit's
/// warnings, which <c>status NAME</c> and both <c>--json</c> objects carry too.
/// </summary>
public partial class GitLifecycleTests
{
    [Test]
    public async Task Sync_fetches_the_remote_first_and_reports_exactly_what_the_pushed_commit_started_restarted_and_stopped(CancellationToken token)
    {
        // The remote: a bare repository on disk, and a clone where commits are made and pushed from.
        var (url, upstream) = await Sandbox.CreateRemoteAsync(token);
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"), upstream);
        Sandbox.WriteUnit("gamma", Sandbox.Unit("gamma"), upstream);
        await Sandbox.CommitAsync("alpha, gamma", token, upstream);
        await Sandbox.GitInAsync(upstream, token, "push", "-q", "origin", "main");

        // The daemon fetches once when it starts, then not for an hour: what a later push does, only sync applies.
        await Sandbox.WriteConfigAsync($$"""
            "Git": { "RemoteUrl": "{{url}}", "FetchInterval": "01:00:00" }
            """, token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "alpha", "gamma");

        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha", "Environment=VERSION=2"), upstream);
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"), upstream);
        Sandbox.RemoveUnit("gamma", upstream);
        var pushed = await Sandbox.CommitAsync("alpha v2, beta, no gamma", token, upstream);
        await Sandbox.GitInAsync(upstream, token, "push", "-q", "origin", "main");
        Assert.That((await Sandbox.ListAsync()).Keys, Is.EquivalentTo(new[] { "alpha", "gamma" }), "nothing fetched the push yet");

        var sync = await Sandbox.ClientAsync(token, "sync");

        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        Assert.That(sync.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 3 services" }), sync.ToString);

        // Answered once the apply had finished: what it did shows at once.
        Assert.That(await Sandbox.GitAsync(token, "rev-parse", "main"), Is.EqualTo(pushed), "the local branch was fast-forwarded");
        var list = await Sandbox.ListAsync();
        Assert.That(list.Keys, Is.EquivalentTo(new[] { "alpha", "beta" }), Sandbox.DaemonOutput);
        Assert.That(list["alpha"].Pid, Is.Not.EqualTo(before["alpha"]), "alpha was restarted");
        Assert.That(ProcScan.IsAlive(before["gamma"]), Is.False, "gamma was stopped");

        var again = await Sandbox.ClientAsync(token, "sync");
        Assert.That(again.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 0 services" }), again.ToString);

        // The JSON object names each service, by what was done to it.
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta", "Environment=VERSION=2"), upstream);
        Sandbox.WriteUnit("delta", Sandbox.Unit("delta"), upstream);
        Sandbox.RemoveUnit("alpha", upstream);
        var next = await Sandbox.CommitAsync("beta v2, delta, no alpha", token, upstream);
        await Sandbox.GitInAsync(upstream, token, "push", "-q", "origin", "main");
        var json = await Sandbox.ClientAsync(token, "sync", "--json");
        Assert.That(json.ExitCode, Is.Zero, json.ToString);
        using var data = JsonDocument.Parse(json.Stdout);
        var root = data.RootElement;
        Assert.That(root.GetProperty("commit").GetString(), Is.EqualTo(next));
        Assert.That(root.GetProperty("reloaded").GetInt32(), Is.EqualTo(3));
        Assert.That(Strings(root, "started"), Is.EqualTo(new[] { "delta" }));
        Assert.That(Strings(root, "restarted"), Is.EqualTo(new[] { "beta" }));
        Assert.That(Strings(root, "stopped"), Is.EqualTo(new[] { "alpha" }));
    }

    [Test]
    public async Task History_says_which_commits_a_fetch_brought_and_which_replaced_a_force_pushed_branch(CancellationToken token)
    {
        var (url, upstream) = await Sandbox.CreateRemoteAsync(token);
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"), upstream);
        var first = await Sandbox.CommitAsync("alpha", token, upstream);
        await Sandbox.GitInAsync(upstream, token, "push", "-q", "origin", "main");
        await Sandbox.WriteConfigAsync($$"""
            "Git": { "RemoteUrl": "{{url}}", "FetchInterval": "01:00:00" }
            """, token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "alpha");

        // The remote's history is rewritten: its only commit amended (beta added) and force-pushed.
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"), upstream);
        await Sandbox.GitInAsync(upstream, token, "add", "-A");
        await Sandbox.GitInAsync(upstream, token, "-c", "user.name=GitProc E2E", "-c", "user.email=e2e@gitproc.invalid", "-c", "commit.gpgsign=false",
            "commit", "-q", "--amend", "-m", "alpha and beta");
        var rewritten = await Sandbox.GitInAsync(upstream, token, "rev-parse", "HEAD");
        await Sandbox.GitInAsync(upstream, token, "push", "-q", "--force", "origin", "main");
        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);

        var json = await Sandbox.ClientAsync(token, "history", "--json");
        Assert.That(json.ExitCode, Is.Zero, json.ToString);
        using var data = JsonDocument.Parse(json.Stdout);
        var newest = data.RootElement.GetProperty("records")[0];
        Assert.That(newest.GetProperty("commit").GetString(), Is.EqualTo(rewritten));
        Assert.That(newest.GetProperty("replaced_commit").GetString(), Is.EqualTo(first), json.Stdout);
        Assert.That(newest.GetProperty("fetched").GetDateTimeOffset(), Is.GreaterThanOrEqualTo(newest.GetProperty("received").GetDateTimeOffset().AddSeconds(-5)));

        var text = await Sandbox.ClientAsync(token, "history", "-n", "1");
        Assert.That(text.Lines, Does.Contain($"    force-pushed: the remote rewrote the branch, replacing {first[..7]}"), text.ToString);
    }

    [Test]
    public async Task A_failed_fetch_fails_sync_with_one_line_and_the_services_keep_running(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        await Sandbox.CommitAsync("alpha", token);
        var missing = Path.Combine(Sandbox.Root, "gone.git");
        await Sandbox.WriteConfigAsync($$"""
            "Git": { "RemoteUrl": "{{new Uri(missing).AbsoluteUri}}", "FetchInterval": "01:00:00" }
            """, token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "alpha");

        var sync = await Sandbox.ClientAsync(token, "sync");

        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.Stdout, Is.Empty);
        Assert.That(sync.ErrorLines, Has.Length.EqualTo(1), sync.ToString);
        Assert.That(sync.Stderr, Does.StartWith($"Error: Fetching branch main from {new Uri(missing).AbsoluteUri} into {Sandbox.Repo} failed: "), sync.ToString);
        Assert.That((await Sandbox.ListAsync())["alpha"].Pid, Is.EqualTo(before["alpha"]));
    }

    [Test]
    public async Task Warnings_of_the_applied_commit_are_shown_by_sync_and_status_and_carried_by_their_json(CancellationToken token)
    {
        // Keys GitProc parses but does not act on, and a dependency on something that is not a service: warnings.
        Sandbox.WriteUnit("web", Sandbox.Unit("web", "ProtectSystem=strict").Replace("[Unit]\n", "[Unit]\nAfter=network.target\n", StringComparison.Ordinal));
        Sandbox.WriteUnit("db", Sandbox.Unit("db"));
        await Sandbox.CommitAsync("web with warnings, db without", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "web", "db");
        const string Dependency = "web.service:2: After: Service 'web' has After=network.target, which is not a service; GitProc supervises only services, so the entry is ignored.";
        const string KeyPrefix = "web.service:7: ProtectSystem: ";

        var sync = await Sandbox.ClientAsync(token, "sync");

        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        Assert.That(sync.Lines, Has.Length.EqualTo(4), sync.ToString);
        Assert.That(sync.Lines[..2], Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 0 services" }), "the daemon applied the commit when it started");
        Assert.That(sync.Lines[2], Is.EqualTo("warning: " + Dependency), "in the order of the file, as gitproc check prints them");
        Assert.That(sync.Lines[3], Does.StartWith("warning: " + KeyPrefix));

        var status = await Sandbox.ClientAsync(token, "status", "web");
        Assert.That(status.ExitCode, Is.Zero, status.ToString);
        var warningsLine = status.Lines.Single(l => l.StartsWith("Warnings: ", StringComparison.Ordinal));
        Assert.That(warningsLine, Does.StartWith("Warnings: 2 (" + Dependency.TrimEnd('.')).And.EndWith("; 1 more in 'gitproc status web --json')"));
        var clean = await Sandbox.ClientAsync(token, "status", "db");
        Assert.That(clean.Lines, Has.None.StartsWith("Warnings:"), clean.ToString);

        var statusJson = await Sandbox.ClientAsync(token, "status", "web", "--json");
        using (var data = JsonDocument.Parse(statusJson.Stdout))
        {
            var warnings = Strings(data.RootElement, "warnings");
            Assert.That(warnings, Has.Length.EqualTo(2), statusJson.ToString);
            Assert.That(warnings[0], Is.EqualTo(Dependency));
            Assert.That(warnings[1], Does.StartWith(KeyPrefix));
            Assert.That(sync.Lines[3], Is.EqualTo("warning: " + warnings[1]), "the same text everywhere");
        }

        var cleanJson = await Sandbox.ClientAsync(token, "status", "db", "--json");
        using (var data = JsonDocument.Parse(cleanJson.Stdout))
        {
            Assert.That(Strings(data.RootElement, "warnings"), Is.Empty);
        }

        var syncJson = await Sandbox.ClientAsync(token, "sync", "--json");
        using (var data = JsonDocument.Parse(syncJson.Stdout))
        {
            Assert.That(Strings(data.RootElement, "warnings"), Is.EqualTo(sync.Lines[2..].Select(l => l["warning: ".Length..])), syncJson.ToString);
        }
    }

    private static string[] Strings(JsonElement element, string name) =>
        [.. element.GetProperty(name).EnumerateArray().Select(e => e.GetString()!)];
}
