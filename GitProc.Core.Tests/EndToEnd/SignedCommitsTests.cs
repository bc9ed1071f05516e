using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>Git:RequireSignedCommits</c> with the real daemon and CLI: commits signed by git with keys ssh-keygen made, an allowed
/// signers file, and every place a rejected commit shows (sync, status, plan, check, history, metrics).
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(90_000)]
public sealed class SignedCommitsTests : SandboxFixture
{
    private const string Unsigned = "unsigned, and Git:RequireSignedCommits accepts signed commits only";

    private SshSigningKey _alice = null!;
    private string _allowedSigners = null!;

    [SetUp]
    public async Task SetUp()
    {
        var keys = Directory.CreateDirectory(Path.Combine(Sandbox.Root, "keys")).FullName;
        _alice = SshSigningKey.Create(keys, "alice");
        _allowedSigners = Path.Combine(Sandbox.Root, "allowed_signers");
        await File.WriteAllTextAsync(_allowedSigners, $"# who may deploy\n{_alice.AllowedSigner("alice@example.com")}\n");
    }

    private string SigningConfig => $$"""
        "Git": { "RequireSignedCommits": true, "AllowedSignersFile": "{{_allowedSigners}}" }
        """;

    /// <summary>Commits everything with <c>git commit -S</c> and the key, as its owner would.</summary>
    private async Task<string> SignedCommitAsync(SshSigningKey key, string message, CancellationToken token)
    {
        await Sandbox.GitAsync(token, "add", "-A");
        await Sandbox.GitAsync(token, [.. key.GitSettings, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-S", "-q", "-m", message]);
        return await Sandbox.GitAsync(token, "rev-parse", "HEAD");
    }

    [Test]
    public async Task Signed_commits_apply_and_an_unsigned_or_unknown_signers_tip_is_rejected_whole_and_shown_everywhere_while_the_last_good_keeps_running(
        CancellationToken token)
    {
        var port = await Sandbox.WriteListenConfigAsync("Metrics", SigningConfig);
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        await SignedCommitAsync(_alice, "alpha", token);
        await Sandbox.StartDaemonAsync(token);
        var before = await Sandbox.WaitRunningAsync(token, "alpha");

        // Valid units, no signature: none of it may apply.
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha", "Environment=VERSION=2"));
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"));
        var unsigned = await Sandbox.CommitAsync("alpha v2 and beta, unsigned", token);
        var shortSha = unsigned[..7];

        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.ErrorLines, Is.EqualTo(new[] { $"Error: Commit {shortSha} rejected, nothing applied: {Unsigned}" }), sync.ToString);

        var list = await Sandbox.ListAsync();
        Assert.That(list.Keys, Is.EquivalentTo(new[] { "alpha" }), "nothing of the unsigned commit was applied");
        Assert.That(list["alpha"].Pid, Is.EqualTo(before["alpha"]), "alpha was not restarted");

        var status = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(status.Lines, Has.One.EqualTo($"Rejected Commit: {shortSha}: {Unsigned}"), status.ToString);

        var plan = await Sandbox.ClientAsync(token, "plan");
        Assert.That(plan.ExitCode, Is.EqualTo(1), plan.ToString);
        Assert.That(plan.ErrorLines, Is.EqualTo(new[] { $"Error: Commit {shortSha} would be rejected: {Unsigned}" }), plan.ToString);

        var check = await Sandbox.CliAsync(["check", "--commit", "HEAD", "--repo", Sandbox.Repo, "--config", Sandbox.ConfigFile], cancellationToken: token);
        Assert.That(check.ExitCode, Is.EqualTo(1), check.ToString);
        Assert.That(check.Lines, Is.EqualTo(new[] { $"commit {shortSha}: {Unsigned}" }), check.ToString);
        Assert.That(check.Stderr, Does.Contain($"commit {shortSha} would be rejected: its signature is not trusted (Git:RequireSignedCommits)"), check.ToString);

        var history = await Sandbox.ClientAsync(token, "history", "-n", "1");
        Assert.That(history.Lines[0], Does.StartWith(shortSha).And.Contain("  rejected  "), history.ToString);
        Assert.That(history.Lines[1], Is.EqualTo($"    {Unsigned}"), history.ToString);

        var scrape = await Scrape.FetchAsync(port, token);
        Assert.That(scrape[$"gitproc_commit_rejected_info{{branch=\"main\",commit=\"{unsigned}\",file=\"\"}}"], Is.EqualTo(1), scrape.Text);

        // Signed, but by a key nobody allowed: the watcher rejects it, naming the key.
        var mallory = SshSigningKey.Create(Path.Combine(Sandbox.Root, "keys"), "mallory");
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta", "Environment=FROM=mallory"));
        var forged = await SignedCommitAsync(mallory, "signed by someone else", token);
        var reason = $"signed by unknown key {mallory.Fingerprint} (ED25519), which Git:AllowedSignersFile {_allowedSigners} does not list";
        await WaitForStatusLineAsync("alpha", $"Rejected Commit: {forged[..7]}: {reason}", token);
        Assert.That((await Sandbox.ListAsync()).Keys, Is.EquivalentTo(new[] { "alpha" }));

        // A commit Alice signs on top applies whole, the tree below it included.
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"));
        var good = await SignedCommitAsync(_alice, "reviewed: alpha v2 and beta", token);
        var after = await Sandbox.WaitForListAsync(
            l => l.TryGetValue("beta", out var b) && b.Status == "running" && l["alpha"].Pid != before["alpha"], "the signed commit applies", token);
        Assert.That(after["alpha"].Status, Is.EqualTo("running"));
        var checkGood = await Sandbox.CliAsync(["check", "--commit", good, "--repo", Sandbox.Repo, "--config", Sandbox.ConfigFile, "--json"], cancellationToken: token);
        Assert.That(checkGood.ExitCode, Is.Zero, checkGood.ToString);
        Assert.That(checkGood.Stdout, Does.Contain("\"signature\":{\"trusted\":true,\"status\":\"trusted\"").And.Contain("\"signer\":\"alice@example.com\""), checkGood.ToString);
        var statusAfter = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(statusAfter.Lines, Has.None.StartWith("Rejected Commit:"), statusAfter.ToString);
    }

    [Test]
    public async Task Turning_signing_on_for_a_host_whose_tip_is_unsigned_keeps_its_services_running_until_a_signed_commit_comes(CancellationToken token)
    {
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        var unsigned = await Sandbox.CommitAsync("alpha, from before signing", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "alpha");
        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero, Sandbox.DaemonOutput);

        // The policy changes, the tip does not: the restarted daemon still runs what it ran, and says the tip is untrusted.
        await Sandbox.WriteConfigAsync(SigningConfig, token);
        await Sandbox.StartDaemonAsync(token);
        var running = await Sandbox.WaitRunningAsync(token, "alpha");
        var status = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(status.Lines, Has.One.EqualTo($"Rejected Commit: {unsigned[..7]}: {Unsigned}"), status.ToString);
        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.EqualTo(1), sync.ToString);
        Assert.That(sync.ErrorLines, Is.EqualTo(new[] { $"Error: Commit {unsigned[..7]} rejected, nothing applied: {Unsigned}" }), sync.ToString);

        // A signed commit on top, even an empty one, vouches for the tree: nothing restarts, the rejection is gone.
        await Sandbox.GitAsync(token, [.. _alice.GitSettings, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-S", "-q", "--allow-empty", "-m", "Reviewed"]);
        var signedSync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(signedSync.ExitCode, Is.Zero, signedSync.ToString);
        Assert.That((await Sandbox.ListAsync())["alpha"].Pid, Is.EqualTo(running["alpha"]), "the unchanged service was not restarted");
        var after = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(after.Lines, Has.None.StartWith("Rejected Commit:"), after.ToString);
    }

    [Test]
    public async Task Rollback_is_refused_while_signed_commits_are_required(CancellationToken token)
    {
        await Sandbox.WriteConfigAsync(SigningConfig);
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"));
        var first = await SignedCommitAsync(_alice, "alpha", token);
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha", "Environment=VERSION=2"));
        var second = await SignedCommitAsync(_alice, "alpha v2", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "alpha");

        var rollback = await Sandbox.ClientAsync(token, "rollback", first[..7]);

        Assert.That(rollback.ExitCode, Is.EqualTo(1), rollback.ToString);
        Assert.That(rollback.Stderr, Does.Contain("Rollback is refused while Git:RequireSignedCommits is on"), rollback.ToString);
        Assert.That(await Sandbox.GitAsync(token, "rev-parse", "HEAD"), Is.EqualTo(second), "no commit was made");
    }

    [Test]
    public async Task The_daemon_does_not_start_with_an_allowed_signers_file_it_cannot_use_and_says_which_option_file_and_line(CancellationToken token)
    {
        // The mistake people make: the public key pasted without the signer's principal in front.
        await File.WriteAllTextAsync(_allowedSigners, $"# who may deploy\n{_alice.PublicKey}\n", token);
        await Sandbox.WriteConfigAsync(SigningConfig, token);

        var daemon = await Sandbox.CliAsync(Sandbox.DaemonArguments, cancellationToken: token);

        Assert.That(daemon.ExitCode, Is.EqualTo(1), daemon.ToString);
        Assert.That(daemon.Stderr, Does.Contain($"{_allowedSigners}:2 (Git:AllowedSignersFile): the line starts with the key type ssh-ed25519"), daemon.ToString);

        await Sandbox.WriteConfigAsync("\"Git\": { \"RequireSignedCommits\": true }", token);
        var untrusting = await Sandbox.CliAsync(Sandbox.DaemonArguments, cancellationToken: token);
        Assert.That(untrusting.ExitCode, Is.EqualTo(1), untrusting.ToString);
        Assert.That(untrusting.Stderr, Does.Contain("Git.RequireSignedCommits is true but no trusted key is set"), untrusting.ToString);
    }

    private async Task WaitForStatusLineAsync(string service, string line, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + GitProcSandbox.Deadline;
        CliResult status;
        do
        {
            status = await Sandbox.ClientAsync(token, "status", service);
            if (status.Lines.Contains(line))
            {
                return;
            }

            await Task.Delay(100, token);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"status never showed '{line}':\n{status}");
    }
}
