using System.Globalization;

namespace GitProc.Git;

/// <summary>
/// The checks ssh makes of the files it trusts, for GitProc's: a file holding a secret (the credentials file, the SSH key)
/// that its group or others may access is refused, since anyone on the host could read the secret; and a file of trusted
/// signing keys (allowed signers, an OpenPGP keyring) that its group or others may write is refused, as sshd's
/// <c>StrictModes</c> refuses such an <c>authorized_keys</c>, since whoever may write it may add their own key.
/// </summary>
internal static class PrivateFile
{
    private const UnixFileMode OpenToOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private const UnixFileMode WritableByOthers = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>Throws unless <paramref name="path"/> is a file only its owner may access.</summary>
    /// <param name="path">The file.</param>
    /// <param name="option">The option that names it, for the message (<c>Git:SshKeyFile</c>).</param>
    /// <exception cref="GitException">The file does not exist, or its mode lets group or others in; the message names both.</exception>
    public static void Require(string path, string option) => RequireMode(
        path, option, OpenToOthers, "a file holding a secret must not be accessible by group or others", "chmod 600");

    /// <summary>Throws unless <paramref name="path"/> is a file only its owner may write.</summary>
    /// <param name="path">The file.</param>
    /// <param name="option">The option that names it, for the message (<c>Git:AllowedSignersFile</c>).</param>
    /// <exception cref="GitException">The file does not exist, or group or others may write it; the message names both.</exception>
    public static void RequireNotWritableByOthers(string path, string option) => RequireMode(
        path, option, WritableByOthers, "whoever may write a file of trusted keys may add their own", "chmod go-w");

    private static void RequireMode(string path, string option, UnixFileMode forbidden, string why, string fix)
    {
        if (!File.Exists(path))
        {
            throw new GitException($"The file {path} ({option}) does not exist.");
        }

        if (OperatingSystem.IsWindows())
        {
            // No Unix modes to check; GitProc runs on Linux, this keeps the library usable elsewhere.
            return;
        }

        UnixFileMode mode;
        try
        {
            mode = File.GetUnixFileMode(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GitException($"Cannot read the mode of {path} ({option}): {ex.Message}", ex);
        }

        if ((mode & forbidden) != 0)
        {
            var octal = Convert.ToString((int)mode, 8).PadLeft(4, '0');
            throw new GitException(string.Create(
                CultureInfo.InvariantCulture,
                $"Permissions {octal} for {path} ({option}) are too open: {why}; refused (run: {fix} {path})."));
        }
    }
}
