using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The real daemon and CLI as processes, one daemon per test: commits add, change and remove services; a broken
/// commit is rejected as a whole; rollback; an operator's stop survives a daemon restart; SIGTERM leaves nothing.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public partial class GitLifecycleTests : SandboxFixture
{
    [Test]
    public async Task Commits_add_change_and_remove_services_touching_only_those_that_changed(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        await Sandbox.CommitAsync("alpha", token);
        await Sandbox.StartDaemonAsync(token);
        var first = await Sandbox.WaitRunningAsync(token, "alpha");

        // Add.
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"));
        await Sandbox.CommitAsync("add beta", token);
        var added = await Sandbox.WaitRunningAsync(token, "alpha", "beta");
        Assert.That(added["alpha"], Is.EqualTo(first["alpha"]), "an unchanged service is not restarted");

        // Change.
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha", "Environment=VERSION=2"));
        await Sandbox.CommitAsync("change alpha", token);
        var changed = await Sandbox.WaitForListAsync(
            l => l["alpha"] is { Status: "running", Pid: { } pid } && pid != first["alpha"], "alpha restarts", token);
        Assert.That(changed["beta"].Pid, Is.EqualTo(added["beta"]), "an unchanged service is not restarted");
        Assert.That(ProcScan.IsAlive(first["alpha"]), Is.False, "alpha's old process is gone");
        Assert.That(await File.ReadAllTextAsync($"/proc/{changed["alpha"].Pid}/environ", token), Does.Contain("VERSION=2\0"));

        // Remove.
        Sandbox.RemoveUnit("beta");
        await Sandbox.CommitAsync("remove beta", token);
        var removed = await Sandbox.WaitForListAsync(l => !l.ContainsKey("beta"), "beta is gone", token);
        Assert.That(ProcScan.IsAlive(added["beta"]), Is.False, "beta's process is gone");
        Assert.That(removed["alpha"].Pid, Is.EqualTo(changed["alpha"].Pid));

        var status = await Sandbox.ClientAsync(token, "status", "beta");
        Assert.That(status.ExitCode, Is.EqualTo(1), status.ToString);

        // The watcher applied the removal; the first sync since says what that did, once. Then nothing is new.
        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 1 services" }), sync.ToString);
        var again = await Sandbox.ClientAsync(token, "sync");
        Assert.That(again.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 0 services" }), again.ToString);
    }

    [Test]
    public async Task Sync_applies_a_new_commit_and_counts_what_it_reloaded(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        await Sandbox.CommitAsync("alpha", token);
        await Sandbox.StartDaemonAsync(token);
        var first = await Sandbox.WaitRunningAsync(token, "alpha");

        // Whether the watcher or sync applies it first, sync waits for that apply and reports what it did.
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha", "Environment=VERSION=2"));
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"));
        await Sandbox.CommitAsync("change alpha, add beta", token);
        var sync = await Sandbox.ClientAsync(token, "sync");

        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        Assert.That(sync.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 2 services" }), sync.ToString);
        var list = await Sandbox.WaitRunningAsync(token, "alpha", "beta");
        Assert.That(list["alpha"], Is.Not.EqualTo(first["alpha"]));
    }

    [Test]
    public async Task A_commit_with_a_broken_unit_is_rejected_as_a_whole_and_the_old_services_keep_running(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        var good = await Sandbox.CommitAsync("alpha", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "alpha");

        // A valid change to alpha and a broken new unit, in one commit: none of it may apply.
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha", "Environment=VERSION=2"));
        Sandbox.WriteUnit("broken", Sandbox.Unit("broken", "RestartSec=soon"));
        var bad = await Sandbox.CommitAsync("alpha v2 and a broken unit", token);

        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.Stdout, Is.Empty);
        Assert.That(sync.ErrorLines, Has.Length.EqualTo(1), sync.ToString);
        Assert.That(sync.Stderr, Does.Contain("broken.service").And.Contain("RestartSec").And.Contain("soon").And.Contain(bad[..7]));

        // sync read the tip and rejected it, so the watcher has seen it too: nothing of it may have applied.
        var list = await Sandbox.ListAsync();
        Assert.That(list.Keys, Is.EquivalentTo(new[] { "alpha" }));
        Assert.That(list["alpha"].Pid, Is.EqualTo(before["alpha"]), "alpha was not restarted by the rejected commit");
        Assert.That(ProcScan.IsAlive(before["alpha"]), Is.True);
        var status = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(status.ExitCode, Is.Zero, status.ToString);
        Assert.That(status.Lines[1], Is.EqualTo("Status: running"));
        Assert.That(await File.ReadAllTextAsync(Sandbox.State, token), Does.Contain(good), "the last good commit is still the applied one");

        // Fixing it applies the whole commit.
        Sandbox.WriteUnit("broken", Sandbox.Unit("broken", "RestartSec=1s"));
        await Sandbox.CommitAsync("fix the broken unit", token);
        var after = await Sandbox.WaitForListAsync(
            l => l.TryGetValue("broken", out var b) && b.Status == "running" && l["alpha"].Pid != before["alpha"],
            "the fixed commit applies", token);
        Assert.That(after["alpha"].Status, Is.EqualTo("running"));
    }

    [Test]
    public async Task Rollback_commits_the_old_tree_on_top_and_applies_it(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        var first = await Sandbox.CommitAsync("alpha", token);
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha", "Environment=VERSION=2"));
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"));
        var second = await Sandbox.CommitAsync("alpha v2, beta", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "alpha", "beta");

        var result = await Sandbox.ClientAsync(token, "rollback", first[..7]);

        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        Assert.That(result.Stderr, Is.Empty);
        var lines = result.Lines;
        Assert.That(lines, Has.Length.EqualTo(3), result.ToString);
        Assert.That(lines[0], Is.EqualTo($"Rolled back to {first[..7]}"));
        var newCommit = NewCommitRegex().Match(lines[1]);
        Assert.That(newCommit.Success, Is.True, result.ToString);
        Assert.That(lines[2], Is.EqualTo("Reloaded 2 services"), "alpha restarted, beta stopped");

        // History is kept: a new commit on main, on top of the second, with the first's tree.
        var head = await Sandbox.GitAsync(token, "rev-parse", "main");
        Assert.That(head, Is.EqualTo(newCommit.Groups[1].Value));
        Assert.That(await Sandbox.GitAsync(token, "rev-parse", "main^"), Is.EqualTo(second));
        Assert.That(await Sandbox.GitAsync(token, "rev-parse", "main^{tree}"), Is.EqualTo(await Sandbox.GitAsync(token, "rev-parse", first + "^{tree}")));
        Assert.That(await Sandbox.GitAsync(token, "log", "-1", "--format=%s", "main"), Is.EqualTo($"Rollback to {first[..7]}"));

        var list = await Sandbox.ListAsync();
        Assert.That(list.Keys, Is.EquivalentTo(new[] { "alpha" }));
        Assert.That(list["alpha"].Status, Is.EqualTo("running"));
        Assert.That(list["alpha"].Pid, Is.Not.EqualTo(before["alpha"]));
        Assert.That(ProcScan.IsAlive(before["beta"]), Is.False);

        var unknown = await Sandbox.ClientAsync(token, "rollback", "0123456789abcdef0123456789abcdef01234567");
        Assert.That(unknown.ExitCode, Is.EqualTo(1), unknown.ToString);
        Assert.That(unknown.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(await Sandbox.GitAsync(token, "rev-parse", "main"), Is.EqualTo(head), "a failed rollback commits nothing");
    }

    [GeneratedRegex("^New commit: ([0-9a-f]{40})$")]
    private static partial Regex NewCommitRegex();

    [Test]
    public async Task An_operators_stop_persists_across_a_daemon_restart(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"));
        await Sandbox.CommitAsync("alpha, beta", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "alpha", "beta");

        var stop = await Sandbox.ClientAsync(token, "stop", "alpha");
        Assert.That(stop.Stdout, Is.EqualTo("Service stopped: alpha\n"), stop.ToString);

        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero, Sandbox.DaemonOutput);
        await Sandbox.AssertNoSurvivorsAsync();

        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "beta");

        // The daemon has applied the branch (beta runs); a sync makes sure nothing more is pending.
        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        var list = await Sandbox.ClientAsync(token, "list");
        Assert.That(list.Lines, Does.Contain("  alpha (stopped)"), list.ToString);
        Assert.That(Sandbox.FindProcesses().Select(Cmdline), Has.None.Contain(" alpha "), "no process of alpha runs");

        var start = await Sandbox.ClientAsync(token, "start", "alpha");
        Assert.That(start.ExitCode, Is.Zero, start.ToString);
        Assert.That(start.Stdout, Does.Match(@"^Service started: alpha \(PID: \d+\)\n$"));
    }

    private static string Cmdline(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    [Test]
    public async Task SIGTERM_stops_the_daemon_and_every_service_tree_even_one_that_ignores_SIGTERM(CancellationToken token)
    {
        Sandbox.WriteUnit("tree", Sandbox.Unit("tree"));
        Sandbox.WriteUnit("stubborn", Sandbox.Unit("stubborn", "TimeoutStopSec=2s", mode: "stubborn"));
        await Sandbox.CommitAsync("two services", token);
        await Sandbox.StartDaemonAsync(token);
        var pids = await Sandbox.WaitRunningAsync(token, "tree", "stubborn");

        // Each service is sh with a sleeping child: both must go.
        var services = new List<int>();
        Assert.That(await ProcScan.WaitUntilAsync(
            () => (services = [.. Sandbox.FindProcesses()]).Count >= 4, TimeSpan.FromSeconds(10)), Is.True,
            $"two sh and two sleep processes run: {string.Join(", ", services.Select(Cmdline))}");
        Assert.That(services, Is.SupersetOf(pids.Values));

        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero, Sandbox.DaemonOutput);

        Assert.That(services.Where(ProcScan.IsAlive), Is.Empty, "every service process is gone when the daemon has exited");
        await Sandbox.AssertNoSurvivorsAsync();
        var state = await File.ReadAllTextAsync(Sandbox.State, token);
        Assert.That(state, Does.Not.Contain("\"manually_stopped\": true"), "a daemon shutdown is not an operator's stop");
    }

    [Test]
    public async Task A_stale_socket_file_with_no_listener_is_replaced(CancellationToken token)
    {
        // A socket file left by a daemon that died: bound once, never unlinked, nobody listening. .NET unlinks the path
        // it bound when the socket is disposed, so the file is moved away from that path first.
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(Sandbox.Socket + ".bound"));
            File.Move(Sandbox.Socket + ".bound", Sandbox.Socket);
        }

        Assert.That(File.Exists(Sandbox.Socket), Is.True);
        var unreachable = await Sandbox.ClientAsync(token, "list");
        Assert.That(unreachable.ExitCode, Is.EqualTo(1), unreachable.ToString);
        Assert.That(unreachable.ErrorLines, Has.Length.EqualTo(1).And.All.Contain(Sandbox.Socket));

        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        await Sandbox.CommitAsync("alpha", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "alpha");

        var list = await Sandbox.ClientAsync(token, "list");
        Assert.That(list.ExitCode, Is.Zero, list.ToString);
        Assert.That(File.GetUnixFileMode(Sandbox.Socket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public async Task Init_refuses_an_existing_repository_with_exit_1(CancellationToken token)
    {
        var again = await Sandbox.CliAsync(["init", "--repo", Sandbox.Repo], cancellationToken: token);

        Assert.That(again.ExitCode, Is.EqualTo(1), again.ToString);
        Assert.That(again.Stdout, Is.Empty);
        Assert.That(again.ErrorLines, Has.Length.EqualTo(1).And.All.Contain(Sandbox.Repo));
        Assert.That(await Sandbox.GitAsync(token, "symbolic-ref", "HEAD"), Is.EqualTo("refs/heads/main"));
    }
}
