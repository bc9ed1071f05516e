using System.Runtime.Versioning;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>gitproc completion bash|zsh|fish</c> run for real: the bash script is sourced in bash, its function called as
/// bash's completion calls it, and it completes command names, options, and service names asked of a real daemon
/// (quietly nothing without one). zsh and fish are checked where installed.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class CompletionTests : SandboxFixture
{
    /// <summary>
    /// An executable named <c>gitproc</c> that runs the build under test: what the user's command word (<c>COMP_WORDS[0]</c>)
    /// names, and so what the script runs to ask for service names.
    /// </summary>
    private string Command()
    {
        var path = Path.Combine(Sandbox.Root, "bin", "gitproc");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, GitProcSandbox.Executable is { } executable
            ? $"#!/bin/sh\nexec '{executable}' \"$@\"\n"
            : $"#!/bin/sh\nexec '{GitProcSandbox.DotnetHost}' '{GitProcSandbox.CliDll}' \"$@\"\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private async Task<string> ScriptAsync(string shell, CancellationToken token)
    {
        var run = await Sandbox.CliAsync(["completion", shell], cancellationToken: token);
        Assert.That((run.ExitCode, run.Stderr), Is.EqualTo((0, "")), run.ToString);
        var path = Path.Combine(Sandbox.Root, "completion." + shell);
        await File.WriteAllTextAsync(path, run.Stdout, token);
        return path;
    }

    /// <summary>Sources the bash script and completes the words (the last is the one being typed); returns COMPREPLY.</summary>
    private async Task<string[]> CompleteAsync(string script, CancellationToken token, params string[] words)
    {
        var program = $$"""
            source '{{script}}' || exit 3
            COMP_WORDS=({{string.Join(' ', words.Select(w => "'" + w + "'"))}})
            COMP_CWORD={{words.Length - 1}}
            _gitproc
            printf '%s\n' "${COMPREPLY[@]}"
            """;
        var run = await Sandbox.RunToolAsync("bash", ["-c", program], token);
        Assert.That((run.ExitCode, run.Stderr), Is.EqualTo((0, "")), run.ToString);
        return run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Test]
    public async Task The_bash_script_completes_commands_options_and_the_daemons_service_names(CancellationToken token)
    {
        Sandbox.WriteUnit("web-1", Sandbox.Unit("web-1"));
        Sandbox.WriteUnit("worker", Sandbox.Unit("worker"));
        await Sandbox.CommitAsync("services", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "web-1", "worker");
        var script = await ScriptAsync("bash", token);
        var gitproc = Command();

        Assert.That(await CompleteAsync(script, token, gitproc, ""), Is.SupersetOf(new[]
        {
            "init", "daemon", "start", "stop", "restart", "status", "logs", "list", "rollback", "sync", "check", "plan", "history", "events", "completion",
        }));
        Assert.That(await CompleteAsync(script, token, gitproc, "st"), Is.EquivalentTo(new[] { "start", "stop", "status" }));
        Assert.That(await CompleteAsync(script, token, gitproc, "logs", "web-1", "--f"), Is.EqualTo(new[] { "--follow" }));
        Assert.That(await CompleteAsync(script, token, gitproc, "completion", ""), Is.EquivalentTo(new[] { "bash", "zsh", "fish" }));

        // Service names from the daemon named by the command line's --socket.
        Assert.That(await CompleteAsync(script, token, gitproc, "--socket", Sandbox.Socket, "start", ""), Is.EquivalentTo(new[] { "web-1", "worker" }));
        Assert.That(await CompleteAsync(script, token, gitproc, "--socket", Sandbox.Socket, "logs", "-n", "5", "w"), Is.EquivalentTo(new[] { "web-1", "worker" }));
        Assert.That(await CompleteAsync(script, token, gitproc, "--socket", Sandbox.Socket, "status", "wo"), Is.EqualTo(new[] { "worker" }));
        Assert.That(await CompleteAsync(script, token, gitproc, "--socket", Sandbox.Socket, "events", "--service", ""), Is.EquivalentTo(new[] { "web-1", "worker" }));
        Assert.That(await CompleteAsync(script, token, gitproc, "--socket", Sandbox.Socket, "stop", "worker", ""), Is.Empty, "one NAME only");

        // No daemon there: no names, and nothing printed over the user's command line (CompleteAsync checks stderr).
        Assert.That(await CompleteAsync(script, token, gitproc, "--socket", Path.Combine(Sandbox.Root, "none.sock"), "start", ""), Is.Empty);
    }

    [Test]
    public async Task The_zsh_script_is_valid_zsh(CancellationToken token)
    {
        var zsh = Which("zsh") ?? Ignore("zsh is not installed on this machine, so its script cannot be checked here");
        var run = await Sandbox.RunToolAsync(zsh, ["-n", await ScriptAsync("zsh", token)], token);
        Assert.That((run.ExitCode, run.Stderr), Is.EqualTo((0, "")), run.ToString);
    }

    [Test]
    public async Task The_fish_script_completes_commands_in_fish(CancellationToken token)
    {
        var fish = Which("fish") ?? Ignore("fish is not installed on this machine, so its script cannot be checked here");
        var script = await ScriptAsync("fish", token);
        var run = await Sandbox.RunToolAsync(fish, ["-c", $"source '{script}'; complete -C 'gitproc st'"], token);
        Assert.That(run.ExitCode, Is.Zero, run.ToString);
        Assert.That(run.Lines.Select(l => l.Split('\t')[0]), Is.SupersetOf(new[] { "start", "stop", "status" }), run.ToString);
    }

    [Test]
    public async Task An_unknown_shell_is_a_usage_error(CancellationToken token)
    {
        var run = await Sandbox.CliAsync(["completion", "tcsh"], cancellationToken: token);
        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString);
        Assert.That(run.Stderr, Does.StartWith("Error: ").And.Contain("tcsh"));
        Assert.That(run.Stdout, Is.Empty);
    }

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    private static string Ignore(string reason)
    {
        Assert.Ignore(reason);
        return "";
    }
}
