using System.Globalization;
using System.Runtime.Versioning;

namespace GitProc.Locking;

/// <summary>
/// Finds who holds a <c>flock</c> from <c>/proc/locks</c>, which lists every lock with its holder's pid (as seen from
/// the reader's pid namespace) and the locked file as <c>MAJOR:MINOR:INODE</c> (device numbers in hex):
/// <c>1: FLOCK  ADVISORY  WRITE 1234 00:20:62999 0 EOF</c>. Unlike a pid written into a lock file, it cannot be stale.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class LockHolders
{
    private const string ProcLocks = "/proc/locks";

    /// <summary>The pid holding a <c>flock</c> on the file with these device numbers and inode, if any.</summary>
    public static int? Find(uint deviceMajor, uint deviceMinor, ulong inode)
    {
        string text;
        try
        {
            text = File.ReadAllText(ProcLocks);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return Find(text, deviceMajor, deviceMinor, inode);
    }

    /// <summary>The parsing of <see cref="Find(uint, uint, ulong)"/>, for tests.</summary>
    internal static int? Find(string procLocks, uint deviceMajor, uint deviceMinor, ulong inode)
    {
        foreach (var line in procLocks.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

            // "N:", "FLOCK", "ADVISORY", "WRITE", pid, file, start, end; a waiter's line has "->" after "N:".
            if (fields.Length < 6 || fields[1] != "FLOCK"
                || !int.TryParse(fields[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
            {
                continue;
            }

            var file = fields[5].Split(':');
            if (file.Length == 3
                && uint.TryParse(file[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var major) && major == deviceMajor
                && uint.TryParse(file[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var minor) && minor == deviceMinor
                && ulong.TryParse(file[2], NumberStyles.None, CultureInfo.InvariantCulture, out var node) && node == inode)
            {
                return pid;
            }
        }

        return null;
    }
}
