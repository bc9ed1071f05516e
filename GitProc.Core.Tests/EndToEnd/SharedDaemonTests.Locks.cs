namespace GitProc.Core.Tests.EndToEnd;

/// <summary>One daemon per state and per cgroup root (CONTRACT §9): a second daemon is refused and touches nothing.</summary>
public partial class SharedDaemonTests
{
    /// <summary>The refusal is one line on stderr, no stack trace anywhere, exit code 1.</summary>
    private static void AssertRefusedInOneLine(CliResult second, string expected)
    {
        Assert.That(second.ExitCode, Is.EqualTo(1), second.ToString);
        Assert.That(second.ErrorLines, Has.Length.EqualTo(1), second.ToString);
        Assert.That(second.Stderr, Does.StartWith("Error: " + expected), second.ToString);
        Assert.That(second.Stdout + second.Stderr, Does.Not.Contain("Hosting failed").And.Not.Contain(" at GitProc."), "no stack trace");
    }

    /// <summary>The daemon's arguments with one option's value replaced.</summary>
    private static string[] With(string[] args, string option, string value)
    {
        var copy = args.ToArray();
        copy[Array.IndexOf(copy, option) + 1] = value;
        return copy;
    }

    [Test]
    public async Task A_second_daemon_with_the_same_state_and_its_own_socket_exits_1_naming_the_first_and_touches_nothing(CancellationToken token)
    {
        var stateBefore = await File.ReadAllBytesAsync(_sandbox.State, token);
        var otherSocket = Path.Combine(_sandbox.Root, "second.sock");
        var args = With(_sandbox.DaemonArguments, "--socket", otherSocket);

        var second = await _sandbox.CliAsync(args, cancellationToken: token);

        AssertRefusedInOneLine(
            second,
            $"Another gitproc daemon (PID {_sandbox.DaemonPid}) owns the state {_sandbox.State} (lock {_sandbox.State}.lock); stop it first or give this one its own --state.");
        Assert.That(File.Exists(otherSocket), Is.False, "the second daemon did not even claim its own socket");
        Assert.That(await File.ReadAllBytesAsync(_sandbox.State, token), Is.EqualTo(stateBefore), "the state file is byte for byte the same");
        await AssertUndisturbedAsync();
    }

    [Test]
    public async Task A_second_daemon_with_its_own_state_but_the_same_cgroup_root_exits_1_naming_the_first_and_the_setting(CancellationToken token)
    {
        if (!Environment.IsPrivilegedProcess || !Directory.Exists("/sys/fs/cgroup/memory"))
        {
            Assert.Ignore("Needs root and the cgroup v1 memory hierarchy: without cgroups there is no cgroup root to share.");
        }

        var stateBefore = await File.ReadAllBytesAsync(_sandbox.State, token);
        var otherState = Path.Combine(_sandbox.Root, "second", "state.json");
        var otherSocket = Path.Combine(_sandbox.Root, "second.sock");
        var args = With(With(_sandbox.DaemonArguments, "--state", otherState), "--socket", otherSocket);

        var second = await _sandbox.CliAsync(args, cancellationToken: token);

        var root = Path.Combine("/sys/fs/cgroup/memory", _sandbox.CgroupRoot);
        AssertRefusedInOneLine(
            second,
            $"Another gitproc daemon (PID {_sandbox.DaemonPid}) owns the cgroup root {root}; stop it first, or set ResourceControl:CgroupRoot to another cgroup for a second daemon.");
        Assert.That(File.Exists(otherSocket), Is.False, "the second daemon did not claim its socket");
        Assert.That(File.Exists(otherState), Is.False, "nor wrote a state");
        Assert.That(await File.ReadAllBytesAsync(_sandbox.State, token), Is.EqualTo(stateBefore), "the first daemon's state is byte for byte the same");
        await AssertUndisturbedAsync();
    }
}
