using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Git;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.Git;

/// <summary>
/// Misconfigured signing stops the daemon at start with a message naming the option and the file (and the line): a typo in
/// a file of trusted keys must not silently trust nobody, or anybody.
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class SigningOptionsTests
{
    private string _directory = null!;
    private SshSigningKey _alice = null!;
    private string _allowedSigners = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Directory.CreateTempSubdirectory("gitproc-signing-").FullName;
        _alice = SshSigningKey.Create(_directory, "alice");
        _allowedSigners = Path.Combine(_directory, "allowed_signers");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    private static string Failures(Action<GitOptions> configure)
    {
        using var provider = new ServiceCollection()
            .AddGitProc(o => configure(o.Git))
            .BuildServiceProvider();
        try
        {
            _ = provider.GetRequiredService<IOptions<GitProcOptions>>().Value;
            return "";
        }
        catch (OptionsValidationException ex)
        {
            return ex.Message;
        }
    }

    [Test]
    public void Signing_is_off_by_default()
    {
        var options = new GitOptions();
        Assert.That(options.RequireSignedCommits, Is.False);
        Assert.That(options.AllowedSignersFile, Is.Null);
        Assert.That(options.GpgKeyringFile, Is.Null);
    }

    [Test]
    public void Requiring_signed_commits_without_any_trusted_key_is_a_start_up_error()
    {
        var failures = Failures(g => g.RequireSignedCommits = true);

        Assert.That(failures, Does.Contain(
            "Git.RequireSignedCommits is true but no trusted key is set: set Git.AllowedSignersFile (SSH signers) or Git.GpgKeyringFile (OpenPGP keys), or both."));
    }

    [Test]
    public void A_file_of_trusted_keys_without_RequireSignedCommits_is_a_start_up_error_rather_than_a_false_sense_of_safety()
    {
        File.WriteAllText(_allowedSigners, _alice.AllowedSigner("alice@example.com") + "\n");

        var failures = Failures(g => g.AllowedSignersFile = _allowedSigners);

        Assert.That(failures, Does.Contain("Git.AllowedSignersFile is set but Git.RequireSignedCommits is not true, so no signature would be checked"));
    }

    [Test]
    public void A_valid_allowed_signers_file_with_options_comments_and_several_principals_passes()
    {
        File.WriteAllText(_allowedSigners, $"""
            # release managers

            alice@example.com,alice@corp.example {_alice.PublicKey}
            "ops bot" namespaces="git,file",valid-after="20260101" {_alice.PublicKey}
            *@example.com cert-authority {_alice.PublicKey}
            """);

        Assert.That(Failures(g => { g.RequireSignedCommits = true; g.AllowedSignersFile = _allowedSigners; }), Is.Empty);
    }

    [TestCase("{key}", "the line starts with the key type ssh-ed25519: an entry starts with the signer's principal")]
    [TestCase("alice@example.com", "no key: expected PRINCIPALS [OPTIONS] KEYTYPE KEY")]
    [TestCase("alice@example.com validity=\"x\" {key}", "'validity' is neither an SSH key type nor an option of an allowed signer (cert-authority, namespaces, valid-after, valid-before)")]
    [TestCase("alice@example.com namespaces {key}", "the option namespaces needs a value")]
    [TestCase("alice@example.com ssh-ed25519", "the ssh-ed25519 key itself (base64) is missing")]
    [TestCase("alice@example.com ssh-ed25519 not-base64!", "the ssh-ed25519 key is not valid base64")]
    [TestCase("alice@example.com \"unclosed {key}", "a quote is not closed")]
    public void A_line_that_ssh_keygen_would_skip_is_a_start_up_error_naming_file_line_and_problem(string line, string problem)
    {
        File.WriteAllText(_allowedSigners, $"# first\n{line.Replace("{key}", _alice.PublicKey, StringComparison.Ordinal)}\n");

        var failures = Failures(g => { g.RequireSignedCommits = true; g.AllowedSignersFile = _allowedSigners; });

        Assert.That(failures, Does.Contain($"{_allowedSigners}:2 (Git:AllowedSignersFile): ").And.Contain(problem));
    }

    [Test]
    public void A_key_under_another_types_name_is_an_error()
    {
        var blob = _alice.PublicKey.Split(' ')[1];
        File.WriteAllText(_allowedSigners, $"alice@example.com ssh-rsa {blob}\n");

        var failures = Failures(g => { g.RequireSignedCommits = true; g.AllowedSignersFile = _allowedSigners; });

        Assert.That(failures, Does.Contain($"{_allowedSigners}:1 (Git:AllowedSignersFile): the key is not a ssh-rsa key."));
    }

    [Test]
    public void An_allowed_signers_file_that_is_missing_empty_or_writable_by_others_is_an_error_naming_it()
    {
        var missing = Failures(g => { g.RequireSignedCommits = true; g.AllowedSignersFile = _allowedSigners; });
        Assert.That(missing, Does.Contain($"The file {_allowedSigners} (Git:AllowedSignersFile) does not exist."));

        File.WriteAllText(_allowedSigners, "# nobody yet\n");
        var empty = Failures(g => { g.RequireSignedCommits = true; g.AllowedSignersFile = _allowedSigners; });
        Assert.That(empty, Does.Contain($"{_allowedSigners} (Git:AllowedSignersFile) lists no signer"));

        File.WriteAllText(_allowedSigners, _alice.AllowedSigner("alice@example.com") + "\n");
        File.SetUnixFileMode(_allowedSigners, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead);
        var open = Failures(g => { g.RequireSignedCommits = true; g.AllowedSignersFile = _allowedSigners; });
        Assert.That(open, Does.Contain($"Permissions 0664 for {_allowedSigners} (Git:AllowedSignersFile) are too open"));
    }

    [Test]
    public void A_keyring_file_that_holds_no_OpenPGP_keys_is_an_error_naming_it()
    {
        var keyring = Path.Combine(_directory, "trusted.gpg");
        File.WriteAllText(keyring, _alice.PublicKey);

        var failures = Failures(g => { g.RequireSignedCommits = true; g.GpgKeyringFile = keyring; });

        Assert.That(failures, Does.Contain($"{keyring} (Git:GpgKeyringFile) holds no OpenPGP public keys; write it with 'gpg --export KEYID > {keyring}'"));
    }
}
