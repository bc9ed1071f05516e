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
public partial class GitLifecycleTests
{
    private GitProcSandbox _sandbox = null!;

    [SetUp]
    public async Task SetUp() => _sandbox = await GitProcSandbox.CreateAsync(CancellationToken.None);

    [TearDown]
    public async Task TearDown() => await _sandbox.DisposeAsync();

    [Test]
    public async Task Commits_add_change_and_remove_services_touching_only_those_that_changed(CancellationToken token)
    {
        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha"));
        await _sandbox.CommitAsync("alpha", token);
        await _sandbox.StartDaemonAsync(token);
        var first = await _sandbox.WaitRunningAsync(token, "alpha");

        // Add.
        _sandbox.WriteUnit("beta", _sandbox.Unit("beta"));
        await _sandbox.CommitAsync("add beta", token);
        var added = await _sandbox.WaitRunningAsync(token, "alpha", "beta");
        Assert.That(added["alpha"], Is.EqualTo(first["alpha"]), "an unchanged service is not restarted");

        // Change.
        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha", "Environment=VERSION=2"));
        await _sandbox.CommitAsync("change alpha", token);
        var changed = await _sandbox.WaitForListAsync(
            l => l["alpha"] is { Status: "running", Pid: { } pid } && pid != first["alpha"], "alpha restarts", token);
        Assert.That(changed["beta"].Pid, Is.EqualTo(added["beta"]), "an unchanged service is not restarted");
        Assert.That(ProcScan.IsAlive(first["alpha"]), Is.False, "alpha's old process is gone");
        Assert.That(await File.ReadAllTextAsync($"/proc/{changed["alpha"].Pid}/environ", token), Does.Contain("VERSION=2\0"));

        // Remove.
        _sandbox.RemoveUnit("beta");
        await _sandbox.CommitAsync("remove beta", token);
        var removed = await _sandbox.WaitForListAsync(l => !l.ContainsKey("beta"), "beta is gone", token);
        Assert.That(ProcScan.IsAlive(added["beta"]), Is.False, "beta's process is gone");
        Assert.That(removed["alpha"].Pid, Is.EqualTo(changed["alpha"].Pid));

        var status = await _sandbox.ClientAsync(token, "status", "beta");
        Assert.That(status.ExitCode, Is.EqualTo(1), status.ToString);

        // The watcher applied the removal; the first sync since says what that did, once. Then nothing is new.
        var sync = await _sandbox.ClientAsync(token, "sync");
        Assert.That(sync.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 1 services" }), sync.ToString);
        var again = await _sandbox.ClientAsync(token, "sync");
        Assert.That(again.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 0 services" }), again.ToString);
    }

    [Test]
    public async Task Sync_applies_a_new_commit_and_counts_what_it_reloaded(CancellationToken token)
    {
        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha"));
        await _sandbox.CommitAsync("alpha", token);
        await _sandbox.StartDaemonAsync(token);
        var first = await _sandbox.WaitRunningAsync(token, "alpha");

        // Whether the watcher or sync applies it first, sync waits for that apply and reports what it did.
        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha", "Environment=VERSION=2"));
        _sandbox.WriteUnit("beta", _sandbox.Unit("beta"));
        await _sandbox.CommitAsync("change alpha, add beta", token);
        var sync = await _sandbox.ClientAsync(token, "sync");

        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        Assert.That(sync.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 2 services" }), sync.ToString);
        var list = await _sandbox.WaitRunningAsync(token, "alpha", "beta");
        Assert.That(list["alpha"], Is.Not.EqualTo(first["alpha"]));
    }

    [Test]
    public async Task A_commit_with_a_broken_unit_is_rejected_as_a_whole_and_the_old_services_keep_running(CancellationToken token)
    {
        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha"));
        var good = await _sandbox.CommitAsync("alpha", token);
        await _sandbox.StartDaemonAsync(token);
        var before = await _sandbox.WaitRunningAsync(token, "alpha");

        // A valid change to alpha and a broken new unit, in one commit: none of it may apply.
        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha", "Environment=VERSION=2"));
        _sandbox.WriteUnit("broken", _sandbox.Unit("broken", "RestartSec=soon"));
        var bad = await _sandbox.CommitAsync("alpha v2 and a broken unit", token);

        var sync = await _sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.Stdout, Is.Empty);
        Assert.That(sync.ErrorLines, Has.Length.EqualTo(1), sync.ToString);
        Assert.That(sync.Stderr, Does.Contain("broken.service").And.Contain("RestartSec").And.Contain("soon").And.Contain(bad[..7]));

        // sync read the tip and rejected it, so the watcher has seen it too: nothing of it may have applied.
        var list = await _sandbox.ListAsync();
        Assert.That(list.Keys, Is.EquivalentTo(new[] { "alpha" }));
        Assert.That(list["alpha"].Pid, Is.EqualTo(before["alpha"]), "alpha was not restarted by the rejected commit");
        Assert.That(ProcScan.IsAlive(before["alpha"]), Is.True);
        var status = await _sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(status.ExitCode, Is.Zero, status.ToString);
        Assert.That(status.Lines[1], Is.EqualTo("Status: running"));
        Assert.That(await File.ReadAllTextAsync(_sandbox.State, token), Does.Contain(good), "the last good commit is still the applied one");

        // Fixing it applies the whole commit.
        _sandbox.WriteUnit("broken", _sandbox.Unit("broken", "RestartSec=1s"));
        await _sandbox.CommitAsync("fix the broken unit", token);
        var after = await _sandbox.WaitForListAsync(
            l => l.TryGetValue("broken", out var b) && b.Status == "running" && l["alpha"].Pid != before["alpha"],
            "the fixed commit applies", token);
        Assert.That(after["alpha"].Status, Is.EqualTo("running"));
    }

    [Test]
    public async Task Rollback_commits_the_old_tree_on_top_and_applies_it(CancellationToken token)
    {
        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha"));
        var first = await _sandbox.CommitAsync("alpha", token);
        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha", "Environment=VERSION=2"));
        _sandbox.WriteUnit("beta", _sandbox.Unit("beta"));
        var second = await _sandbox.CommitAsync("alpha v2, beta", token);
        await _sandbox.StartDaemonAsync(token);
        var before = await _sandbox.WaitRunningAsync(token, "alpha", "beta");

        var result = await _sandbox.ClientAsync(token, "rollback", first[..7]);

        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        Assert.That(result.Stderr, Is.Empty);
        var lines = result.Lines;
        Assert.That(lines, Has.Length.EqualTo(3), result.ToString);
        Assert.That(lines[0], Is.EqualTo($"Rolled back to {first[..7]}"));
        var newCommit = NewCommitRegex().Match(lines[1]);
        Assert.That(newCommit.Success, Is.True, result.ToString);
        Assert.That(lines[2], Is.EqualTo("Reloaded 2 services"), "alpha restarted, beta stopped");

        // History is kept: a new commit on main, on top of the second, with the first's tree.
        var head = await _sandbox.GitAsync(token, "rev-parse", "main");
        Assert.That(head, Is.EqualTo(newCommit.Groups[1].Value));
        Assert.That(await _sandbox.GitAsync(token, "rev-parse", "main^"), Is.EqualTo(second));
        Assert.That(await _sandbox.GitAsync(token, "rev-parse", "main^{tree}"), Is.EqualTo(await _sandbox.GitAsync(token, "rev-parse", first + "^{tree}")));
        Assert.That(await _sandbox.GitAsync(token, "log", "-1", "--format=%s", "main"), Is.EqualTo($"Rollback to {first[..7]}"));

        var list = await _sandbox.ListAsync();
        Assert.That(list.Keys, Is.EquivalentTo(new[] { "alpha" }));
        Assert.That(list["alpha"].Status, Is.EqualTo("running"));
        Assert.That(list["alpha"].Pid, Is.Not.EqualTo(before["alpha"]));
        Assert.That(ProcScan.IsAlive(before["beta"]), Is.False);

        var unknown = await _sandbox.ClientAsync(token, "rollback", "0123456789abcdef0123456789abcdef01234567");
        Assert.That(unknown.ExitCode, Is.EqualTo(1), unknown.ToString);
        Assert.That(unknown.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(await _sandbox.GitAsync(token, "rev-parse", "main"), Is.EqualTo(head), "a failed rollback commits nothing");
    }

    [GeneratedRegex("^New commit: ([0-9a-f]{40})$")]
    private static partial Regex NewCommitRegex();

    [Test]
    public async Task An_operators_stop_persists_across_a_daemon_restart(CancellationToken token)
    {
        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha"));
        _sandbox.WriteUnit("beta", _sandbox.Unit("beta"));
        await _sandbox.CommitAsync("alpha, beta", token);
        await _sandbox.StartDaemonAsync(token);
        await _sandbox.WaitRunningAsync(token, "alpha", "beta");

        var stop = await _sandbox.ClientAsync(token, "stop", "alpha");
        Assert.That(stop.Stdout, Is.EqualTo("Service stopped: alpha\n"), stop.ToString);

        Assert.That(await _sandbox.StopDaemonAsync(), Is.Zero, _sandbox.DaemonOutput);
        await _sandbox.AssertNoSurvivorsAsync();

        await _sandbox.StartDaemonAsync(token);
        await _sandbox.WaitRunningAsync(token, "beta");

        // The daemon has applied the branch (beta runs); a sync makes sure nothing more is pending.
        var sync = await _sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        var list = await _sandbox.ClientAsync(token, "list");
        Assert.That(list.Lines, Does.Contain("  alpha (stopped)"), list.ToString);
        Assert.That(_sandbox.FindProcesses().Select(Cmdline), Has.None.Contain(" alpha "), "no process of alpha runs");

        var start = await _sandbox.ClientAsync(token, "start", "alpha");
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
        _sandbox.WriteUnit("tree", _sandbox.Unit("tree"));
        _sandbox.WriteUnit("stubborn", _sandbox.Unit("stubborn", "TimeoutStopSec=2s", mode: "stubborn"));
        await _sandbox.CommitAsync("two services", token);
        await _sandbox.StartDaemonAsync(token);
        var pids = await _sandbox.WaitRunningAsync(token, "tree", "stubborn");

        // Each service is sh with a sleeping child: both must go.
        var services = new List<int>();
        Assert.That(await ProcScan.WaitUntilAsync(
            () => (services = [.. _sandbox.FindProcesses()]).Count >= 4, TimeSpan.FromSeconds(10)), Is.True,
            $"two sh and two sleep processes run: {string.Join(", ", services.Select(Cmdline))}");
        Assert.That(services, Is.SupersetOf(pids.Values));

        Assert.That(await _sandbox.StopDaemonAsync(), Is.Zero, _sandbox.DaemonOutput);

        Assert.That(services.Where(ProcScan.IsAlive), Is.Empty, "every service process is gone when the daemon has exited");
        await _sandbox.AssertNoSurvivorsAsync();
        var state = await File.ReadAllTextAsync(_sandbox.State, token);
        Assert.That(state, Does.Not.Contain("\"manually_stopped\": true"), "a daemon shutdown is not an operator's stop");
    }

    [Test]
    public async Task A_stale_socket_file_with_no_listener_is_replaced(CancellationToken token)
    {
        // A socket file left by a daemon that died: bound once, never unlinked, nobody listening. .NET unlinks the path
        // it bound when the socket is disposed, so the file is moved away from that path first.
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(_sandbox.Socket + ".bound"));
            File.Move(_sandbox.Socket + ".bound", _sandbox.Socket);
        }

        Assert.That(File.Exists(_sandbox.Socket), Is.True);
        var unreachable = await _sandbox.ClientAsync(token, "list");
        Assert.That(unreachable.ExitCode, Is.EqualTo(1), unreachable.ToString);
        Assert.That(unreachable.ErrorLines, Has.Length.EqualTo(1).And.All.Contain(_sandbox.Socket));

        _sandbox.WriteUnit("alpha", _sandbox.Unit("alpha"));
        await _sandbox.CommitAsync("alpha", token);
        await _sandbox.StartDaemonAsync(token);
        await _sandbox.WaitRunningAsync(token, "alpha");

        var list = await _sandbox.ClientAsync(token, "list");
        Assert.That(list.ExitCode, Is.Zero, list.ToString);
        Assert.That(File.GetUnixFileMode(_sandbox.Socket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public async Task Init_refuses_an_existing_repository_with_exit_1(CancellationToken token)
    {
        var again = await _sandbox.CliAsync(["init", "--repo", _sandbox.Repo], cancellationToken: token);

        Assert.That(again.ExitCode, Is.EqualTo(1), again.ToString);
        Assert.That(again.Stdout, Is.Empty);
        Assert.That(again.ErrorLines, Has.Length.EqualTo(1).And.All.Contain(_sandbox.Repo));
        Assert.That(await _sandbox.GitAsync(token, "symbolic-ref", "HEAD"), Is.EqualTo("refs/heads/main"));
    }
}
