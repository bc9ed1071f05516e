using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.Json;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>gitproc check</c> as a real process on real directories, files and commits (CONTRACT §6): no daemon, every error
/// and warning as <c>FILE:LINE: KEY: message</c>, exit 0 valid and 1 invalid; the shipped pre-commit hook in a real
/// repository; and the daemon rejecting a misspelt key with the same lines, while the last good services keep running.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class CheckCommandTests : SandboxFixture
{
    private const string Good = "[Service]\nExecStart=/usr/bin/app\n";
    private const string TypoError = "web.service:3: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=?";

    private string _units = null!;

    [SetUp]
    public void SetUp() => _units = Directory.CreateDirectory(Path.Combine(Sandbox.Root, "units")).FullName;

    private void Write(string name, string content) => File.WriteAllText(Path.Combine(_units, name), content);

    private Task<CliResult> CheckAsync(CancellationToken token, string? workingDirectory, params string[] args) =>
        Sandbox.CliAsync(["check", .. args], cancellationToken: token, workingDirectory: workingDirectory);

    [Test]
    public async Task A_directory_with_errors_in_several_files_prints_every_one_and_exits_1(CancellationToken token)
    {
        Write("api.service", "[Service]\nExecStart=/usr/bin/api\nHealthCheckUrl=http://127.0.0.1:8080/health\nMemoryMax=lots\n");
        Write("db.service", Good);
        Write("web.service", Good + "Restrat=always\nProtectSystem=strict\n");

        var result = await CheckAsync(token, null, _units);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString);
        Assert.That(result.Lines, Is.EqualTo(new[]
        {
            $"{_units}/api.service:3: HealthCheckUrl: HealthCheckUrl= is not a systemd or GitProc key in [Service]; did you mean HealthCheckURL=? Keys are case-sensitive.",
            $"{_units}/api.service:4: MemoryMax: The value 'lots' is not a memory size; write bytes with an optional K, M, G, T or P suffix (base 1024) such as 512M or 2G, a percentage such as 50%, or infinity.",
            $"{_units}/{TypoError}",
            $"{_units}/web.service:4: ProtectSystem: warning: ProtectSystem= in [Service] is a systemd setting GitProc does not act on; it is kept but ignored.",
        }), result.ToString);
        Assert.That(result.ErrorLines, Is.EqualTo(new[] { "Error: 3 errors and 1 warning in 3 unit files" }), result.ToString);
    }

    [Test]
    public async Task Files_and_the_current_directory_are_shown_by_the_names_given(CancellationToken token)
    {
        Write("web.service", Good + "Restrat=always\n");
        Write("db.service", Good);

        var files = await CheckAsync(token, _units, "web.service", "db.service");
        var here = await CheckAsync(token, _units);

        foreach (var result in new[] { files, here })
        {
            Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString);
            Assert.That(result.Lines, Is.EqualTo(new[] { TypoError }), result.ToString);
            Assert.That(result.ErrorLines, Is.EqualTo(new[] { "Error: 1 error in 2 unit files" }), result.ToString);
        }

        var missing = await CheckAsync(token, _units, "gone.service");
        Assert.That((missing.ExitCode, missing.Stdout), Is.EqualTo((1, "gone.service: There is no such file or directory.\n")), missing.ToString);
    }

    [Test]
    public async Task Valid_units_exit_0_and_warnings_fail_only_with_strict(CancellationToken token)
    {
        Write("web.service", "[Unit]\nAfter=network.target\n" + Good);

        var lenient = await CheckAsync(token, _units);
        var strict = await CheckAsync(token, _units, "--strict");
        Write("web.service", Good);
        var clean = await CheckAsync(token, _units, "--strict");

        const string Warning = "web.service:2: After: warning: Service 'web' has After=network.target, which is not a service; GitProc supervises only services, so the entry is ignored.";
        Assert.That((lenient.ExitCode, lenient.Lines, lenient.Stderr), Is.EqualTo((0, new[] { Warning }, "")), lenient.ToString);
        Assert.That((strict.ExitCode, strict.Lines), Is.EqualTo((1, new[] { Warning })), strict.ToString);
        Assert.That(strict.ErrorLines, Is.EqualTo(new[] { "Error: 1 warning in 1 unit file, which --strict counts as errors" }), strict.ToString);
        Assert.That((clean.ExitCode, clean.Stdout, clean.Stderr), Is.EqualTo((0, "", "")), clean.ToString);
    }

    [Test]
    public async Task Json_is_one_object_with_every_error_and_warning_as_data(CancellationToken token)
    {
        Write("a.service", "[Unit]\nAfter=b\n" + Good);
        Write("b.service", "[Unit]\nAfter=a\n" + Good);
        Write("c.service", "[Service]\nRestart=sometimes\n");
        Write("d.service", Good + "X-Team=web\n");

        var result = await CheckAsync(token, _units, "--json");

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString);
        Assert.That(result.Lines, Has.Length.EqualTo(1), result.ToString);
        Assert.That(result.Stderr, Is.Empty);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.That(root.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "valid", "files", "errors", "warnings" }));
        Assert.That((root.GetProperty("valid").GetBoolean(), root.GetProperty("files").GetInt32()), Is.EqualTo((false, 4)));

        // A cycle together with another file's error: both reported.
        var errors = root.GetProperty("errors").EnumerateArray().ToList();
        Assert.That(errors.Select(e => (e.GetProperty("file").GetString(), e.GetProperty("line").GetInt32(), e.GetProperty("key").GetString())), Is.EqualTo(new[]
        {
            ("a.service", 2, "After"), ("c.service", 1, "ExecStart"), ("c.service", 2, "Restart"),
        }));
        Assert.That(errors[0].GetProperty("message").GetString(), Does.StartWith("Dependency cycle: "));

        // Readable as text too: the quoted value is not escaped as \u0027.
        Assert.That(result.Stdout, Does.Contain("The value 'sometimes' is not a restart policy"));
        var warning = root.GetProperty("warnings").EnumerateArray().Single();
        Assert.That(
            (warning.GetProperty("file").GetString(), warning.GetProperty("line").GetInt32(), warning.GetProperty("key").GetString()),
            Is.EqualTo(("d.service", 3, "X-Team")));

        // A file-level finding has a null line and key.
        var empty = Directory.CreateDirectory(Path.Combine(Sandbox.Root, "empty")).FullName;
        var none = await CheckAsync(token, null, empty, "--json", "--strict");
        using var noneJson = JsonDocument.Parse(none.Stdout);
        var fileLevel = noneJson.RootElement.GetProperty("warnings").EnumerateArray().Single();
        Assert.That((none.ExitCode, fileLevel.GetProperty("line").ValueKind, fileLevel.GetProperty("key").ValueKind), Is.EqualTo((1, JsonValueKind.Null, JsonValueKind.Null)));
        Assert.That(noneJson.RootElement.GetProperty("valid").GetBoolean(), Is.False, "--strict counts the warning");
    }

    [Test]
    public async Task A_commit_is_read_from_Git_not_from_the_working_tree(CancellationToken token)
    {
        Sandbox.WriteUnit("web", Good + "Restrat=always\n");
        Sandbox.WriteUnit("db", Good);
        var bad = await Sandbox.CommitAsync("typo", token);
        Sandbox.WriteUnit("web", Good);

        // In the repository, --commit needs no --repo; elsewhere, --repo (or GITPROC_REPO) names it.
        var inRepo = await CheckAsync(token, Sandbox.Repo, "--commit", "HEAD");
        var subdirectory = Directory.CreateDirectory(Path.Combine(Sandbox.Repo, "docs")).FullName;
        var below = await CheckAsync(token, subdirectory, "--commit", bad[..7]);
        var elsewhere = await CheckAsync(token, null, "--commit", "HEAD", "--repo", Sandbox.Repo);
        var byVariable = await Sandbox.CliAsync(["check", "--commit", "HEAD"], new Dictionary<string, string> { ["GITPROC_REPO"] = Sandbox.Repo }, token);
        foreach (var result in new[] { inRepo, below, elsewhere, byVariable })
        {
            Assert.That((result.ExitCode, result.Lines), Is.EqualTo((1, new[] { TypoError })), result.ToString);
            Assert.That(result.ErrorLines, Is.EqualTo(new[] { "Error: 1 error in 2 unit files" }), result.ToString);
        }

        var workingTree = await CheckAsync(token, Sandbox.Repo);
        Assert.That(workingTree.ExitCode, Is.Zero, workingTree.ToString);

        var unknown = await CheckAsync(token, Sandbox.Repo, "--commit", "no-such-rev");
        Assert.That(unknown.ExitCode, Is.EqualTo(1), unknown.ToString);
        Assert.That(unknown.ErrorLines, Is.EqualTo(new[] { $"Error: Commit 'no-such-rev' not found in {Sandbox.Repo}." }), unknown.ToString);
        Assert.That(unknown.Stdout, Is.Empty);
    }

    [Test]
    public async Task The_config_file_UnknownKeys_Warn_makes_a_misspelt_key_a_warning(CancellationToken token)
    {
        Write("web.service", Good + "Restrat=always\n");
        var config = Path.Combine(Sandbox.Root, "lenient.json");
        await File.WriteAllTextAsync(config, """{ "GitProc": { "UnitFiles": { "UnknownKeys": "Warn" } } }""", token);

        var result = await CheckAsync(token, _units, "--config", config);

        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        Assert.That(result.Lines, Is.EqualTo(new[]
        {
            "web.service:3: Restrat: warning: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=? It is kept but ignored.",
        }), result.ToString);
    }

    [Test]
    public async Task A_commit_and_paths_together_are_a_usage_error(CancellationToken token)
    {
        var result = await CheckAsync(token, Sandbox.Repo, "--commit", "HEAD", "web.service");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString);
        Assert.That(result.ErrorLines.Single(), Does.StartWith("Error: --commit checks the repository's commit and takes no PATH."));
    }

    [Test]
    public async Task The_sample_pre_commit_hook_refuses_a_commit_the_daemon_would_reject(CancellationToken token)
    {
        Sandbox.WriteUnit("db", Good);
        await Sandbox.CommitAsync("db", token);
        var hook = Path.Combine(Directory.CreateDirectory(Path.Combine(Sandbox.Repo, ".git", "hooks")).FullName, "pre-commit");
        File.Copy(Path.Combine(GitProcSandbox.SourceRoot, "samples", "git-hooks", "pre-commit"), hook);
        File.SetUnixFileMode(hook, File.GetUnixFileMode(hook) | UnixFileMode.UserExecute);

        // Staged with a typo, then fixed in the working tree only: the commit would still carry the typo.
        Sandbox.WriteUnit("web", Good + "Restrat=always\n");
        await Sandbox.GitAsync(token, "add", "web.service");
        Sandbox.WriteUnit("web", Good + "Restart=always\n");
        var refused = await GitCommitAsync("add web", token);

        Assert.That(refused.ExitCode, Is.EqualTo(1), refused.ToString);
        Assert.That(refused.Stdout + refused.Stderr, Does.Contain(TypoError).And.Contain("GitProc would reject these unit files"), refused.ToString);
        Assert.That(await Sandbox.GitAsync(token, "log", "-1", "--format=%s"), Is.EqualTo("db"), "nothing was committed");

        await Sandbox.GitAsync(token, "add", "web.service");
        var accepted = await GitCommitAsync("add web", token);
        Assert.That(accepted.ExitCode, Is.Zero, accepted.ToString);
        Assert.That(await Sandbox.GitAsync(token, "log", "-1", "--format=%s"), Is.EqualTo("add web"));
    }

    [Test]
    public async Task The_daemon_rejects_a_misspelt_key_with_the_suggestion_the_check_prints_and_keeps_the_last_good_running(CancellationToken token)
    {
        Sandbox.WriteUnit("web", Sandbox.Unit("web"));
        await Sandbox.CommitAsync("web", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "web");

        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restrat=always"));
        Sandbox.WriteUnit("api", Sandbox.Unit("api", "HealthCheckUrl=http://127.0.0.1:9/health"));
        var bad = await Sandbox.CommitAsync("typos", token);
        string[] errors =
        [
            "api.service:6: HealthCheckUrl: HealthCheckUrl= is not a systemd or GitProc key in [Service]; did you mean HealthCheckURL=? Keys are case-sensitive.",
            "web.service:6: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=?",
        ];

        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.ErrorLines, Is.EqualTo(new[] { $"Error: Commit {bad[..7]} rejected, nothing applied: 2 errors: {string.Join(' ', errors)}" }), sync.ToString);

        var status = await Sandbox.ClientAsync(token, "status", "web");
        Assert.That(status.Lines, Has.One.EqualTo($"Rejected Commit: {bad[..7]}: 2 errors: {string.Join(' ', errors)}"), status.ToString);
        Assert.That(status.Lines, Has.One.EqualTo($"PID: {before["web"]}"), "the last good web keeps running, untouched");
        var list = await Sandbox.ListAsync();
        Assert.That(list.Keys, Is.EquivalentTo(new[] { "web" }), "nothing of the rejected commit was applied");

        // The history record and gitproc check of that commit say the same, line for line.
        var history = await Sandbox.ClientAsync(token, "history", "-n", "1");
        Assert.That(history.Lines[0], Does.StartWith($"{bad[..7]}  ").And.Contain("  rejected  "), history.ToString);
        Assert.That(history.Lines[1..], Is.EqualTo(errors.Select(e => "    " + e)), history.ToString);
        var check = await CheckAsync(token, null, "--commit", bad, "--repo", Sandbox.Repo);
        Assert.That((check.ExitCode, check.Lines), Is.EqualTo((1, errors)), check.ToString);
    }

    /// <summary><c>git commit</c> in the sandbox's repository, with the hook finding the CLI through <c>GITPROC</c>.</summary>
    private async Task<CliResult> GitCommitAsync(string message, CancellationToken token)
    {
        var info = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Sandbox.Repo,
        };
        foreach (var arg in new[] { "-c", "user.name=GitProc E2E", "-c", "user.email=e2e@gitproc.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "-m", message })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["GITPROC"] = GitProcSandbox.Executable ?? $"{GitProcSandbox.DotnetHost} {GitProcSandbox.CliDll}";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(token);
        var stderr = process.StandardError.ReadToEndAsync(token);
        await process.WaitForExitAsync(token);
        return new CliResult(["(git commit)", message], process.ExitCode, await stdout, await stderr);
    }
}
