using System.Globalization;

namespace GitProc.Git;

/// <summary>
/// The check ssh makes of a private key, for every secret GitProc reads (the credentials file, the SSH key): a file that
/// its group or others may access is refused, since anyone on the host could read the secret.
/// </summary>
internal static class PrivateFile
{
    private const UnixFileMode OpenToOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Throws unless <paramref name="path"/> is a file only its owner may access.</summary>
    /// <param name="path">The file.</param>
    /// <param name="option">The option that names it, for the message (<c>Git:SshKeyFile</c>).</param>
    /// <exception cref="GitException">The file does not exist, or its mode lets group or others in; the message names both.</exception>
    public static void Require(string path, string option)
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

        if ((mode & OpenToOthers) != 0)
        {
            var octal = Convert.ToString((int)mode, 8).PadLeft(4, '0');
            throw new GitException(string.Create(
                CultureInfo.InvariantCulture,
                $"Permissions {octal} for {path} ({option}) are too open: a file holding a secret must not be accessible by group or others; refused (run: chmod 600 {path})."));
        }
    }
}
