using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace GitProc.Git;

/// <summary>
/// The default <see cref="ICommitSignatureVerifier"/>: the commit object is read with <c>git cat-file</c> and split into
/// signature and payload as git does; an SSH signature is checked as <c>git verify-commit</c> with
/// <c>gpg.format=ssh</c> checks it (<c>ssh-keygen -Y find-principals</c> for the signer, then <c>-Y verify</c> for that
/// principal in the namespace <c>git</c>; for a key nobody lists, <c>-Y check-novalidate</c> names it), and an OpenPGP
/// signature with <c>gpgv</c> against the keyring file alone.
/// </summary>
/// <remarks>
/// Not <c>git verify-commit</c> itself: its verdict is an exit code and English prose for people, which would have to be
/// parsed to say why a commit is refused, and for OpenPGP it consults the user's keyring and trust database rather than
/// one file. Not LibGit2Sharp's <c>ExtractSignature</c>: it returns through libgit2 buffers, the kind that came back empty
/// in the NativeAOT build (the rollback message, <c>Repository.Discover</c>), and an empty signature would read as unsigned. The files the helpers read (signature, keyring) are
/// written to a private temporary directory, removed afterwards.
/// </remarks>
internal sealed partial class CommitSignatureVerifier(IGitIntegration git, IOptions<GitOptions> options, TimeProvider timeProvider) : ICommitSignatureVerifier
{
    /// <summary>The namespace git signs commits in (<c>ssh-keygen -Y sign -n git</c>).</summary>
    private const string Namespace = "git";

    private const string SshArmor = "-----BEGIN SSH SIGNATURE-----";
    private const string PgpArmor = "-----BEGIN PGP SIGNATURE-----";
    private const string X509Armor = "-----BEGIN SIGNED MESSAGE-----";

    // Verifying reads a few small files; a helper still running after this is stuck, not busy.
    private static readonly TimeSpan HelperTimeout = TimeSpan.FromSeconds(30);

    public async Task<CommitSignatureVerdict> VerifyAsync(string commit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commit);
        var settings = options.Value;

        // The trust sources first: one broken while the daemon runs is an error to fix (shown until it is), not a verdict
        // on the commit.
        var allowedSigners = Configured(settings.AllowedSignersFile);
        if (allowedSigners is not null)
        {
            AllowedSignersFile.Check(allowedSigners);
        }

        var keyringPath = Configured(settings.GpgKeyringFile);
        var keyring = keyringPath is null ? null : GpgKeyringFile.Load(keyringPath);

        var sha = (await git.GetCommitAsync(commit, cancellationToken).ConfigureAwait(false)).Sha;
        var signed = SignedCommitObject.Parse(await ReadCommitObjectAsync(sha, cancellationToken).ConfigureAwait(false));
        if (signed.Signature is not { } signature)
        {
            return new CommitSignatureVerdict(sha, CommitSignatureStatus.Unsigned, "unsigned, and Git:RequireSignedCommits accepts signed commits only");
        }

        if (signature.StartsWith(SshArmor, StringComparison.Ordinal))
        {
            return allowedSigners is null
                ? new CommitSignatureVerdict(sha, CommitSignatureStatus.Untrusted, $"signed with an SSH key, but {AllowedSignersFile.Option} is not set, so no SSH signer is trusted")
                : await WithDirectoryAsync(directory => VerifySshAsync(sha, signed.Payload, signature, allowedSigners, directory, cancellationToken)).ConfigureAwait(false);
        }

        if (signature.StartsWith(PgpArmor, StringComparison.Ordinal))
        {
            return keyring is null
                ? new CommitSignatureVerdict(sha, CommitSignatureStatus.Untrusted, $"signed with an OpenPGP key, but {GpgKeyringFile.Option} is not set, so no OpenPGP signer is trusted")
                : await WithDirectoryAsync(directory => VerifyOpenPgpAsync(sha, signed.Payload, signature, keyring, keyringPath!, directory, cancellationToken)).ConfigureAwait(false);
        }

        return new CommitSignatureVerdict(
            sha,
            CommitSignatureStatus.Untrusted,
            signature.StartsWith(X509Armor, StringComparison.Ordinal)
                ? "signed with an X.509 certificate (gpgsm), which GitProc does not verify; sign with an SSH or OpenPGP key"
                : "signed with a kind of signature GitProc does not know; sign with an SSH or OpenPGP key");
    }

    private async Task<CommitSignatureVerdict> VerifySshAsync(
        string sha, byte[] payload, string signature, string allowedSigners, string directory, CancellationToken cancellationToken)
    {
        var signatureFile = await WriteAsync(directory, "commit.sig", signature, cancellationToken).ConfigureAwait(false);
        var found = await RunAsync("ssh-keygen", "openssh-client", ["-Y", "find-principals", "-f", allowedSigners, "-s", signatureFile], default, cancellationToken)
            .ConfigureAwait(false);
        if (found.ExitCode == 0)
        {
            ToolResult? failed = null;
            foreach (var principal in found.OutputText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var verified = await RunAsync(
                    "ssh-keygen", "openssh-client", ["-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", Namespace, "-s", signatureFile], payload, cancellationToken)
                    .ConfigureAwait(false);
                if (verified.ExitCode == 0)
                {
                    var key = SshKey(verified.OutputText);
                    return new CommitSignatureVerdict(sha, CommitSignatureStatus.Trusted, $"signed by {principal}{(key is null ? "" : $" with {key.Value.Type} key {key.Value.Fingerprint}")}")
                    {
                        Key = key?.Fingerprint,
                        Signer = principal,
                    };
                }

                failed = verified;
            }

            if (failed is not null)
            {
                return new CommitSignatureVerdict(sha, CommitSignatureStatus.BadSignature, $"bad signature (ssh-keygen: {Condense(failed)})");
            }
        }

        // No principal has the key: whether the signature is sound says whether the key is merely unknown.
        var sound = await RunAsync("ssh-keygen", "openssh-client", ["-Y", "check-novalidate", "-n", Namespace, "-s", signatureFile], payload, cancellationToken)
            .ConfigureAwait(false);
        if (sound.ExitCode != 0)
        {
            return new CommitSignatureVerdict(sha, CommitSignatureStatus.BadSignature, $"bad signature (ssh-keygen: {Condense(sound)})");
        }

        var unknown = SshKey(sound.OutputText);
        var named = unknown is null ? "an unknown key" : $"unknown key {unknown.Value.Fingerprint} ({unknown.Value.Type})";
        return new CommitSignatureVerdict(sha, CommitSignatureStatus.UnknownKey, $"signed by {named}, which {AllowedSignersFile.Option} {allowedSigners} does not list")
        {
            Key = unknown?.Fingerprint,
        };
    }

    private async Task<CommitSignatureVerdict> VerifyOpenPgpAsync(
        string sha, byte[] payload, string signature, byte[] keyring, string keyringPath, string directory, CancellationToken cancellationToken)
    {
        var signatureFile = await WriteAsync(directory, "commit.asc", signature, cancellationToken).ConfigureAwait(false);
        var keyringFile = Path.Combine(directory, "trusted.gpg");
        await File.WriteAllBytesAsync(keyringFile, keyring, cancellationToken).ConfigureAwait(false);

        // gpgv trusts every key of the keyrings it is given and nothing else; its home is the empty temporary directory,
        // so nothing of the daemon user's ~/.gnupg takes part.
        var result = await RunAsync(
            "gpgv", "gpgv", ["--homedir", directory, "--keyring", keyringFile, "--status-fd", "1", signatureFile, "-"], payload, cancellationToken)
            .ConfigureAwait(false);
        var status = GpgStatus.Parse(result.OutputText);
        if (status.Bad is { } bad)
        {
            return new CommitSignatureVerdict(sha, CommitSignatureStatus.BadSignature, $"bad signature by OpenPGP key {bad}") { Key = bad };
        }

        if (status.Expired is { } expired)
        {
            return new CommitSignatureVerdict(sha, CommitSignatureStatus.Untrusted, $"signed by {expired}") { Key = status.Fingerprint };
        }

        if (status.MissingKey is { } missing)
        {
            return new CommitSignatureVerdict(sha, CommitSignatureStatus.UnknownKey, $"signed by unknown OpenPGP key {missing}, which {GpgKeyringFile.Option} {keyringPath} does not hold")
            {
                Key = missing,
            };
        }

        if (result.ExitCode == 0 && status.Good is { } signer && status.Fingerprint is { } fingerprint)
        {
            return new CommitSignatureVerdict(sha, CommitSignatureStatus.Trusted, $"signed by {signer} with OpenPGP key {fingerprint}")
            {
                Key = fingerprint,
                Signer = signer,
            };
        }

        return new CommitSignatureVerdict(sha, CommitSignatureStatus.BadSignature, $"bad signature (gpgv: {Condense(result)})");
    }

    /// <summary>The commit object as git stores it: the signature must be checked over these exact bytes.</summary>
    private async Task<byte[]> ReadCommitObjectAsync(string sha, CancellationToken cancellationToken)
    {
        var info = GitCommandFetcher.GitStartInfo(git.RepositoryPath);
        foreach (var argument in (string[])["-C", git.RepositoryPath, "cat-file", "commit", sha])
        {
            info.ArgumentList.Add(argument);
        }

        var result = await RunAsync(info, "git", default, cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0
            ? result.Output
            : throw new GitException($"Cannot read commit {CommitText.Short(sha)} of {git.RepositoryPath} to verify its signature: {Condense(result)}");
    }

    private Task<ToolResult> RunAsync(string program, string package, string[] arguments, ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(program);
        info.Environment["LC_ALL"] = "C";
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return RunAsync(info, package, input, cancellationToken);
    }

    private async Task<ToolResult> RunAsync(ProcessStartInfo info, string package, ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        try
        {
            return await ToolProcess.RunAsync(info, input, HelperTimeout, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Win32Exception ex)
        {
            throw new GitException(
                $"Verifying commit signatures (Git:RequireSignedCommits) needs the {info.FileName} command, which could not be run ({ex.Message}); install the Debian package {package}.",
                ex);
        }
        catch (TimeoutException ex)
        {
            throw new GitException($"Verifying a commit signature: {ex.Message}", ex);
        }
    }

    private static async Task<CommitSignatureVerdict> WithDirectoryAsync(Func<string, Task<CommitSignatureVerdict>> verify)
    {
        // Mode 0700: the directory is the daemon's alone while the helpers read from it.
        var directory = Directory.CreateTempSubdirectory("gitproc-verify-").FullName;
        try
        {
            return await verify(directory).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Left for the system's temporary-file cleaning; it holds only public data.
            }
        }
    }

    private static async Task<string> WriteAsync(string directory, string name, string content, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, name);
        await File.WriteAllTextAsync(path, content, cancellationToken).ConfigureAwait(false);
        return path;
    }

    private static string? Configured(string? path) => string.IsNullOrWhiteSpace(path) ? null : path;

    /// <summary>The key ssh-keygen names in <c>Good "git" signature … with ED25519 key SHA256:…</c>.</summary>
    private static (string Type, string Fingerprint)? SshKey(string output) =>
        SshKeyPattern().Match(output) is { Success: true } match ? (match.Groups["type"].Value, match.Groups["fingerprint"].Value) : null;

    /// <summary>A helper's complaint as one line for a status: its last lines of stderr, else its exit code.</summary>
    private static string Condense(ToolResult result)
    {
        var text = GitCommandFetcher.Condense(result.Error);
        return text.Length > 0 ? text : string.Create(CultureInfo.InvariantCulture, $"exit code {result.ExitCode}");
    }

    [GeneratedRegex(@"with (?<type>\S+) key (?<fingerprint>\S+)")]
    private static partial Regex SshKeyPattern();
}
