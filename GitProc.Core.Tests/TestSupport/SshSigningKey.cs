using System.Runtime.Versioning;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>An SSH key pair made by the real <c>ssh-keygen</c> (no passphrase) in a test's temporary directory, for signing commits.</summary>
[SupportedOSPlatform("linux")]
internal sealed class SshSigningKey
{
    private SshSigningKey(string privateKey, string publicKey, string fingerprint)
    {
        PrivateKey = privateKey;
        PublicKey = publicKey;
        Fingerprint = fingerprint;
    }

    /// <summary>The private key file (mode 0600).</summary>
    public string PrivateKey { get; }

    /// <summary>The public key line: <c>ssh-ed25519 AAAA… comment</c>.</summary>
    public string PublicKey { get; }

    /// <summary>As ssh-keygen shows it: <c>SHA256:…</c>.</summary>
    public string Fingerprint { get; }

    /// <summary>git's settings for <c>commit -S</c> with this key, as a user would set them.</summary>
    public string[] GitSettings => ["-c", "gpg.format=ssh", "-c", "user.signingKey=" + PrivateKey];

    /// <summary>Makes an ed25519 key <paramref name="name"/> in <paramref name="directory"/>; ignores the test without ssh-keygen.</summary>
    public static SshSigningKey Create(string directory, string name)
    {
        var sshKeygen = Tools.Require("ssh-keygen", "openssh-client");
        var path = Path.Combine(directory, name);
        Tools.Run(sshKeygen, null, null, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path);
        var fingerprint = Tools.Run(sshKeygen, null, null, "-l", "-f", path + ".pub").Split(' ')[1];
        return new SshSigningKey(path, File.ReadAllText(path + ".pub").Trim(), fingerprint);
    }

    /// <summary>This key's line of an allowed signers file.</summary>
    public string AllowedSigner(string principal) => $"{principal} {PublicKey}";
}
