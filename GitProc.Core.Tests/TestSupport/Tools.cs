using System.Diagnostics;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>Finds the programs some tests drive (python3, ansible-playbook, unshare, …), which may not be installed.</summary>
internal static class Tools
{
    /// <summary>The full path of <paramref name="name"/> in PATH (or the usual system directories), or null.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
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
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static string Require(string name, string package)
    {
        var found = Find(name);
        if (found is null)
        {
            Assert.Ignore($"needs {name} (Debian package {package}), which is not installed; `bash .ci/run` installs it when run as root");
        }

        return found!;
    }

    /// <summary>
    /// Runs <paramref name="program"/> to its end (30 s at most) in <paramref name="directory"/> with
    /// <paramref name="environment"/> added; returns its stdout.
    /// </summary>
    /// <exception cref="InvalidOperationException">It exited with a non-zero code; the message has its stderr.</exception>
    /// <exception cref="TimeoutException">It ran longer than 30 s; it was killed.</exception>
    public static string Run(string program, IReadOnlyDictionary<string, string>? environment, string? directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory ?? "",
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish in 30 s");
        }

        process.WaitForExit();
        return process.ExitCode == 0
            ? output.Result
            : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Result}");
    }
}
