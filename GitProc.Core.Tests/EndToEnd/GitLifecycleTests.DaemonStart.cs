
namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>gitproc daemon</c> as a process (CONTRACT §6, §10): when it cannot start it exits 1 with one line on stderr and no
/// stack trace, touching nothing, so that systemd's <c>Restart=on-failure</c> and scripts see a failure; an empty
/// repository is a clear message and the daemon waits for the first commit; without its repository it runs what it ran
/// before. (A state locked by another daemon: <see cref="SharedDaemonTests"/>.)
/// </summary>
public partial class GitLifecycleTests
{
    /// <summary>Runs the daemon to its end; asserts exit 1, exactly <paramref name="expected"/> on stderr, and that it touched nothing.</summary>
    private async Task AssertRefusedAsync(
        string expected, CancellationToken token, IReadOnlyDictionary<string, string>? environment = null, IReadOnlyList<string>? wrapper = null)
    {
        var daemon = await Sandbox.CliAsync(Sandbox.DaemonArguments, environment, token, wrapper);

        Assert.That(daemon.ExitCode, Is.EqualTo(1), daemon.ToString);
        Assert.That(daemon.Stderr, Is.EqualTo("Error: " + expected + "\n"), daemon.ToString);
        Assert.That(daemon.Stdout + daemon.Stderr, Does.Not.Contain("   at ").And.Not.Contain("Exception"), "no stack trace");
        Assert.That(File.Exists(Sandbox.Socket), Is.False, "no socket");
        Assert.That(Directory.Exists($"/sys/fs/cgroup/memory/{Sandbox.CgroupRoot}"), Is.False, "no cgroup");
    }

    [Test]
    public async Task Without_a_repository_the_daemon_exits_1_with_one_line(CancellationToken token)
    {
        Directory.Delete(Sandbox.Repo, recursive: true);

        await AssertRefusedAsync($"No Git repository at {Sandbox.Repo} (run 'gitproc init --repo {Sandbox.Repo}' to create one).", token);
    }

    [Test]
    public async Task A_directory_that_is_not_a_repository_exits_1_with_one_line(CancellationToken token)
    {
        Directory.Delete(Path.Combine(Sandbox.Repo, ".git"), recursive: true);

        await AssertRefusedAsync(
            $"No Git repository at {Sandbox.Repo}: the directory is not a Git repository (run 'gitproc init --repo {Sandbox.Repo}' to make it one).", token);
    }

    [Test]
    public async Task A_file_in_place_of_the_repository_exits_1_with_one_line(CancellationToken token)
    {
        Directory.Delete(Sandbox.Repo, recursive: true);
        await File.WriteAllTextAsync(Sandbox.Repo, "not a repository", token);

        await AssertRefusedAsync($"No Git repository at {Sandbox.Repo}: it is a file, not a directory.", token);
    }

    [Test]
    public async Task A_repository_Git_refuses_to_open_for_this_user_exits_1_with_one_line_saying_what_to_do(CancellationToken token)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: gives the repository to another user");
        }

        // Root cannot be denied a read, but Git (and libgit2) refuse a repository another user owns: what a daemon
        // running as a service user meets with an administrator's checkout. HOME is empty, so no safe.directory applies.
        Assert.That(await RunAsync("chown", "-R", "nobody", Sandbox.Repo), Is.Zero);
        var home = Directory.CreateDirectory(Path.Combine(Sandbox.Root, "home")).FullName;

        await AssertRefusedAsync(
            $"Cannot open the Git repository at {Sandbox.Repo}: it is not owned by the user the daemon runs as (root), and Git refuses such repositories; change its owner, or run 'git config --global --add safe.directory {Sandbox.Repo}' as root.",
            token,
            new Dictionary<string, string> { ["HOME"] = home, ["XDG_CONFIG_HOME"] = home });
    }

    [Test]
    public async Task A_repository_the_daemon_may_not_read_exits_1_with_one_line_naming_its_user(CancellationToken token)
    {
        if (!Environment.IsPrivilegedProcess || !File.Exists("/usr/bin/setpriv"))
        {
            Assert.Ignore("needs root and setpriv (util-linux): runs the daemon as nobody");
        }

        // The daemon as an unprivileged user, with state and log directories of its own, and a repository only root reads.
        foreach (var directory in new[] { Path.GetDirectoryName(Sandbox.State)!, Sandbox.Logs, Path.Combine(Sandbox.Root, "home") })
        {
            Directory.CreateDirectory(directory);
            Assert.That(await RunAsync("chown", "nobody", directory), Is.Zero);
        }

        File.SetUnixFileMode(Sandbox.Repo, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await AssertRefusedAsync(
            $"Cannot open the Git repository at {Sandbox.Repo}: permission denied (the daemon runs as nobody).",
            token,
            new Dictionary<string, string> { ["HOME"] = Path.Combine(Sandbox.Root, "home") },
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
    }

    [Test]
    public async Task A_log_directory_it_cannot_create_exits_1_with_one_line(CancellationToken token)
    {
        await File.WriteAllTextAsync(Sandbox.Logs, "in the way", token);

        await AssertRefusedAsync(
            $"Cannot write the log directory {Sandbox.Logs}: it is a file, not a directory; give the daemon a directory it can write (--log-dir).", token);
    }

    [TestCase(null, "cannot be read: Failed to load configuration from file")]
    [TestCase("\"Delivery\": { \"VerifyWindow\": \"soon\" }", "Invalid settings: Failed to convert configuration value 'soon' at 'GitProc:Delivery:VerifyWindow' to type 'System.TimeSpan'.")]
    [TestCase("\"WatchBranch\": \"main..next\"", "Invalid settings: WatchBranch must be a valid Git branch name (was 'main..next').")]
    public async Task A_bad_config_file_exits_1_with_one_line(string? setting, string expected, CancellationToken token)
    {
        if (setting is null)
        {
            await File.WriteAllTextAsync(Sandbox.ConfigFile, "{ \"ResourceControl\": ", token);
        }
        else
        {
            await Sandbox.WriteConfigAsync(setting, token);
        }

        var daemon = await Sandbox.CliAsync(Sandbox.DaemonArguments, cancellationToken: token);

        Assert.That(daemon.ExitCode, Is.EqualTo(1), daemon.ToString);
        Assert.That(daemon.ErrorLines, Has.Length.EqualTo(1), daemon.ToString);
        Assert.That(daemon.Stderr, Does.StartWith("Error: ").And.Contain(expected), daemon.ToString);
        Assert.That(daemon.Stdout, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(File.Exists(Sandbox.Socket), Is.False, "no socket");
    }

    [Test]
    public async Task An_empty_repository_is_a_clear_message_and_the_daemon_waits_for_the_first_commit(CancellationToken token)
    {
        await Sandbox.StartDaemonAsync(token);

        var empty = await Sandbox.ClientAsync(token, "sync");
        Assert.That(empty.ExitCode, Is.Zero, empty.ToString);
        Assert.That(empty.Lines, Is.EqualTo(new[]
        {
            "Synced with Git repository",
            "Reloaded 0 services",
            $"No commit on branch main yet in {Sandbox.Repo}: nothing to run until the first commit",
        }), empty.ToString);
        Assert.That(Sandbox.DaemonOutput, Does.Contain($"No commit on branch main yet in {Sandbox.Repo}: waiting for the first commit"));
        Assert.That(Sandbox.DaemonOutput, Does.Not.Contain("Applied commit  ("));

        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        var first = await Sandbox.CommitAsync("first", token);
        await Sandbox.WaitRunningAsync(token, "alpha");

        // The watcher applied it; the next sync says what that did.
        var sync = await Sandbox.ClientAsync(token, "sync", "--json");
        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        Assert.That(sync.Stdout, Does.Contain($"\"commit\":\"{first}\"").And.Contain("\"reloaded\":1,\"started\":[\"alpha\"]"), sync.ToString);
    }

    [Test]
    public async Task Without_its_repository_a_daemon_runs_what_it_ran_before_and_picks_the_repository_up_again(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        var commit = await Sandbox.CommitAsync("alpha", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "alpha");
        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero, Sandbox.DaemonOutput);

        // A repository on a mount that is not there yet, say: the state's copy of the units runs meanwhile.
        var aside = Sandbox.Repo + ".aside";
        Directory.Move(Sandbox.Repo, aside);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "alpha");
        var status = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(status.Lines, Has.One.StartsWith($"Git Error: No Git repository at {Sandbox.Repo}"), status.ToString);

        Directory.Move(aside, Sandbox.Repo);
        var deadline = DateTime.UtcNow + GitProcSandbox.Deadline;
        while ((status = await Sandbox.ClientAsync(token, "status", "alpha")).Lines.Any(l => l.StartsWith("Git Error: ", StringComparison.Ordinal)))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the repository was not picked up again: " + status);
            await Task.Delay(200, token);
        }

        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"));
        await Sandbox.CommitAsync("beta", token);
        await Sandbox.WaitRunningAsync(token, "alpha", "beta");
        Assert.That(await Sandbox.GitAsync(token, "rev-parse", "main~1"), Is.EqualTo(commit));
    }

    private static async Task<int> RunAsync(string program, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(program, args);
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}
