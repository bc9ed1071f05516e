using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Git;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.Git;

/// <summary>
/// Commit signatures verified as <c>git verify-commit</c> verifies them: real keys made by ssh-keygen and gpg, real commits
/// signed by git (<c>commit -S</c>), real ssh-keygen and gpgv checking them.
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class CommitSignatureVerifierTests
{
    private TempGitRepository _repo = null!;
    private string _keys = null!;
    private string _allowedSigners = null!;

    [SetUp]
    public void SetUp()
    {
        _repo = new TempGitRepository();
        _repo.InitWithCli();
        _keys = Directory.CreateDirectory(Path.Combine(_repo.Root, "keys")).FullName;
        _allowedSigners = Path.Combine(_repo.Root, "allowed_signers");
    }

    [TearDown]
    public void TearDown()
    {
        var survivors = ProcScan.FindByCommandLine(_repo.Root);
        _repo.Dispose();
        Assert.That(survivors, Is.Empty, "a helper (ssh-keygen, gpgv, gpg-agent) survived the test");
    }

    private CommitSignatureVerifier Verifier(string? allowedSigners = null, string? keyring = null)
    {
        var options = new GitProcOptions { RepositoryPath = _repo.Path };
        options.Git.RequireSignedCommits = true;
        options.Git.AllowedSignersFile = allowedSigners;
        options.Git.GpgKeyringFile = keyring;
        return new CommitSignatureVerifier(_repo.CreateIntegration(), Options.Create(options.Git), TimeProvider.System);
    }

    private SshSigningKey AllowedKey(string principal = "alice@example.com")
    {
        var key = SshSigningKey.Create(_keys, "alice");
        File.WriteAllText(_allowedSigners, $"# who may deploy\n{key.AllowedSigner(principal)}\n");
        return key;
    }

    /// <summary>A commit signed by git with the OpenPGP key, from the key's GnuPG home.</summary>
    private string GpgSignedCommit(GpgSigningKey key, string message)
    {
        foreach (var (name, value) in key.Environment)
        {
            _repo.Environment[name] = value;
        }

        return _repo.SignedCommit(key.GitSettings, message, ("web.service", "[Service]\nExecStart=/bin/true\n"));
    }

    [Test]
    public async Task A_commit_signed_by_an_allowed_SSH_key_is_trusted_and_names_its_signer_and_key()
    {
        var alice = AllowedKey();
        var commit = _repo.SignedCommit(alice.GitSettings, "signed", ("web.service", "[Service]\nExecStart=/bin/true\n"));

        var verdict = await Verifier(_allowedSigners).VerifyAsync(commit);

        Assert.That(verdict.Status, Is.EqualTo(CommitSignatureStatus.Trusted), verdict.Description);
        Assert.That(verdict.Commit, Is.EqualTo(commit));
        Assert.That(verdict.Signer, Is.EqualTo("alice@example.com"));
        Assert.That(verdict.Key, Is.EqualTo(alice.Fingerprint));
        Assert.That(verdict.Description, Is.EqualTo($"signed by alice@example.com with ED25519 key {alice.Fingerprint}"));
    }

    [Test]
    public async Task An_unsigned_commit_is_unsigned()
    {
        AllowedKey();
        var commit = _repo.Commit("not signed", ("web.service", "[Service]\nExecStart=/bin/true\n"));

        var verdict = await Verifier(_allowedSigners).VerifyAsync("HEAD");

        Assert.That(verdict.Status, Is.EqualTo(CommitSignatureStatus.Unsigned));
        Assert.That(verdict.Commit, Is.EqualTo(commit), "a revision is resolved to the commit");
        Assert.That(verdict.Description, Does.StartWith("unsigned"));
        Assert.That(verdict.IsTrusted, Is.False);
    }

    [Test]
    public async Task A_commit_signed_by_a_key_nobody_lists_is_rejected_naming_that_key()
    {
        AllowedKey();
        var mallory = SshSigningKey.Create(_keys, "mallory");
        var commit = _repo.SignedCommit(mallory.GitSettings, "signed by someone else", ("web.service", "[Service]\nExecStart=/bin/true\n"));

        var verdict = await Verifier(_allowedSigners).VerifyAsync(commit);

        Assert.That(verdict.Status, Is.EqualTo(CommitSignatureStatus.UnknownKey), verdict.Description);
        Assert.That(verdict.Key, Is.EqualTo(mallory.Fingerprint));
        Assert.That(verdict.Description, Is.EqualTo(
            $"signed by unknown key {mallory.Fingerprint} (ED25519), which Git:AllowedSignersFile {_allowedSigners} does not list"));
    }

    [Test]
    public async Task A_commit_changed_after_signing_has_a_bad_signature()
    {
        var alice = AllowedKey();
        var signed = _repo.SignedCommit(alice.GitSettings, "deploy v1", ("web.service", "[Service]\nExecStart=/bin/true\n"));

        // The same object, signature and all, with another message: what someone rewriting a signed commit would push.
        var forged = _repo.Git("cat-file", "commit", signed).Replace("deploy v1", "deploy v2", StringComparison.Ordinal) + "\n";
        var path = Path.Combine(_repo.Root, "forged");
        File.WriteAllText(path, forged);
        var forgedCommit = _repo.Git("hash-object", "-t", "commit", "-w", path);

        var verdict = await Verifier(_allowedSigners).VerifyAsync(forgedCommit);

        Assert.That(verdict.Status, Is.EqualTo(CommitSignatureStatus.BadSignature), verdict.Description);
        Assert.That(verdict.Description, Does.StartWith("bad signature (ssh-keygen: "));
        Assert.That((await Verifier(_allowedSigners).VerifyAsync(signed)).IsTrusted, Is.True, "the original still verifies");
    }

    [Test]
    public async Task A_key_allowed_only_for_another_namespace_does_not_sign_commits()
    {
        var alice = SshSigningKey.Create(_keys, "alice");
        File.WriteAllText(_allowedSigners, $"alice@example.com namespaces=\"file\" {alice.PublicKey}\n");
        var commit = _repo.SignedCommit(alice.GitSettings, "signed", ("web.service", "[Service]\nExecStart=/bin/true\n"));

        var verdict = await Verifier(_allowedSigners).VerifyAsync(commit);

        Assert.That(verdict.Status, Is.EqualTo(CommitSignatureStatus.BadSignature), verdict.Description);
        Assert.That(verdict.Description, Does.Contain("not permitted for use in signature namespace \"git\""), "ssh-keygen's reason is kept");
    }

    [Test]
    public async Task An_SSH_signature_is_not_trusted_without_an_allowed_signers_file()
    {
        var keyring = Path.Combine(_repo.Root, "keyring.gpg");
        File.WriteAllBytes(keyring, [0x99, 0x00, 0x00]);
        var alice = SshSigningKey.Create(_keys, "alice");
        var commit = _repo.SignedCommit(alice.GitSettings, "signed", ("web.service", "[Service]\nExecStart=/bin/true\n"));

        var verdict = await Verifier(keyring: keyring).VerifyAsync(commit);

        Assert.That(verdict.Status, Is.EqualTo(CommitSignatureStatus.Untrusted));
        Assert.That(verdict.Description, Does.Contain("Git:AllowedSignersFile is not set"));
    }

    [Test]
    public void An_allowed_signers_file_broken_while_the_daemon_runs_is_an_error_naming_the_option_file_and_line()
    {
        var alice = AllowedKey();
        var commit = _repo.SignedCommit(alice.GitSettings, "signed", ("web.service", "[Service]\nExecStart=/bin/true\n"));
        File.AppendAllText(_allowedSigners, alice.PublicKey + "\n");

        var ex = Assert.ThrowsAsync<GitException>(() => Verifier(_allowedSigners).VerifyAsync(commit));

        Assert.That(ex!.Message, Does.StartWith($"{_allowedSigners}:3 (Git:AllowedSignersFile): the line starts with the key type ssh-ed25519"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_commit_signed_by_a_key_of_the_OpenPGP_keyring_is_trusted(bool armored)
    {
        using var key = GpgSigningKey.Create(_keys, "Alice", "alice@example.com");
        var keyring = Path.Combine(_repo.Root, armored ? "trusted.asc" : "trusted.gpg");
        key.Export(keyring, armored);
        var commit = GpgSignedCommit(key, "signed");

        var verdict = await Verifier(keyring: keyring).VerifyAsync(commit);

        Assert.That(verdict.Status, Is.EqualTo(CommitSignatureStatus.Trusted), verdict.Description);
        Assert.That(verdict.Key, Is.EqualTo(key.Fingerprint));
        Assert.That(verdict.Signer, Is.EqualTo("Alice <alice@example.com>"));
    }

    [Test]
    public async Task A_commit_signed_by_an_OpenPGP_key_the_keyring_does_not_hold_is_rejected_naming_that_key()
    {
        using var trusted = GpgSigningKey.Create(_keys, "Alice", "alice@example.com");
        using var other = GpgSigningKey.Create(_keys, "Mallory", "mallory@example.com");
        var keyring = Path.Combine(_repo.Root, "trusted.gpg");
        trusted.Export(keyring, armor: false);
        var commit = GpgSignedCommit(other, "signed by someone else");

        var verdict = await Verifier(keyring: keyring).VerifyAsync(commit);

        Assert.That(verdict.Status, Is.EqualTo(CommitSignatureStatus.UnknownKey), verdict.Description);
        Assert.That(verdict.Key, Is.EqualTo(other.Fingerprint));
        Assert.That(verdict.Description, Is.EqualTo($"signed by unknown OpenPGP key {other.Fingerprint}, which Git:GpgKeyringFile {keyring} does not hold"));
    }
}
