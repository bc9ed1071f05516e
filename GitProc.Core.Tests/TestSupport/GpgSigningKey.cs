using System.Runtime.Versioning;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>
/// A throwaway OpenPGP key made by the real <c>gpg</c> (batch generation, no passphrase) in its own GnuPG home inside a
/// test's temporary directory. Signing starts a gpg-agent for that home; disposing stops it (<c>gpgconf --kill all</c>).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class GpgSigningKey : IDisposable
{
    private readonly string _gpg;
    private readonly string _gpgconf;

    private GpgSigningKey(string gpg, string gpgconf, string home)
    {
        _gpg = gpg;
        _gpgconf = gpgconf;
        Home = home;
        Environment = new Dictionary<string, string> { ["GNUPGHOME"] = home };
    }

    /// <summary>The key's GnuPG home.</summary>
    public string Home { get; }

    /// <summary>The primary key's fingerprint.</summary>
    public string Fingerprint { get; private set; } = "";

    /// <summary><c>GNUPGHOME</c>, for git's commands that sign.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>git's settings for <c>commit -S</c> with this key.</summary>
    public string[] GitSettings => ["-c", "gpg.format=openpgp", "-c", "user.signingKey=" + Fingerprint];

    /// <summary>Makes an ed25519 signing key for <paramref name="email"/>; ignores the test without gpg, gpgv or gpgconf.</summary>
    public static GpgSigningKey Create(string directory, string name, string email)
    {
        var gpg = Tools.Require("gpg", "gpg");
        _ = Tools.Require("gpgv", "gpgv");
        var gpgconf = Tools.Require("gpgconf", "gpgconf");
        var home = Path.Combine(directory, "gnupg-" + name);
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var key = new GpgSigningKey(gpg, gpgconf, home);
        try
        {
            key.Gpg("--batch", "--passphrase", "", "--quick-gen-key", $"{name} <{email}>", "ed25519", "sign", "never");
            var listing = key.Gpg("--with-colons", "--list-keys", email);
            key.Fingerprint = listing.Split('\n').First(static l => l.StartsWith("fpr:", StringComparison.Ordinal)).Split(':')[9];
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Writes the public key to <paramref name="path"/>, as <c>gpg --export</c> (binary) or <c>--armor</c> does.</summary>
    public void Export(string path, bool armor)
    {
        string[] format = armor ? ["--armor"] : [];
        _ = Gpg([.. format, "--output", path, "--export", Fingerprint]);
    }

    public void Dispose() => _ = Tools.Run(_gpgconf, Environment, null, "--kill", "all");

    private string Gpg(params string[] arguments) => Tools.Run(_gpg, Environment, null, arguments);
}
