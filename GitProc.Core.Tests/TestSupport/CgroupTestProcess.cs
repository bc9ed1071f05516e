using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using GitProc.ResourceControl;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>
/// Starts a shell script in a cgroup the way the process manager's shim does: the process writes its own pid into
/// every <c>cgroup.procs</c> file, then executes the command, so everything the script forks is in the cgroup.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class CgroupTestProcess
{
    public static Process Start(IServiceCgroup cgroup, string script)
    {
        var shim = string.Concat(cgroup.ProcsFiles.Select(file => $"echo $$ > '{file}' || exit 126; ")) + "exec \"$@\"";
        var startInfo = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["-c", shim, "sh", "/bin/sh", "-c", script])
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = Process.Start(startInfo)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return await condition();
    }

    /// <summary>Whether <paramref name="pid"/> is a live process (a zombie counts as dead: it runs nothing).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state != 'Z' && state != 'X';
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The executable name of <paramref name="pid"/> (/proc/PID/comm), or empty when it is gone.</summary>
    public static string CommandOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/comm").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>The session id of <paramref name="pid"/> (field 6 of /proc/PID/stat), or -1 when it is gone.</summary>
    public static int SessionOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[3], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
