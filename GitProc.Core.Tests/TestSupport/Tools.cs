namespace GitProc.Core.Tests.TestSupport;

/// <summary>Finds the programs some tests drive (python3, ansible-playbook, unshare, …), which may not be installed.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class Tools
{
    /// <summary>The full path of <paramref name="name"/> in PATH (or the usual system directories), or null.</summary>
    public static string? Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var directories = path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]);
        return directories
            .Where(Path.IsPathRooted)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(candidate => File.Exists(candidate) && (File.GetUnixFileMode(candidate) & UnixFileMode.UserExecute) != 0);
    }

    /// <summary>
    /// <see cref="Find"/>, or ignores the test with a reason naming what is missing and where it comes from
    /// (<paramref name="package"/>, a Debian package).
    /// </summary>
    public static string Require(string name, string package)
    {
        var found = Find(name);
        if (found is null)
        {
            Assert.Ignore($"needs {name} (Debian package {package}), which is not installed; `bash .ci/run` installs it when run as root");
        }

        return found!;
    }
}
