namespace GitProc.Core.Tests.TestSupport;

/// <summary>Finds live processes through /proc, the way an operator would check for survivors.</summary>
internal static class ProcScan
{
    /// <summary>
    /// Pids of live (non-zombie) processes whose command line contains <paramref name="marker"/> or whose working
    /// directory is under it (children that exec'd another program keep the directory they inherited).
    /// </summary>
    public static IReadOnlyList<int> FindByCommandLine(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if ((cmdline.Contains(marker, StringComparison.Ordinal) || WorksIn(dir, marker)) && !IsZombie(pid))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    private static bool WorksIn(string procDir, string marker)
    {
        try
        {
            var cwd = new FileInfo(Path.Combine(procDir, "cwd")).LinkTarget;
            return cwd is not null && cwd.StartsWith(marker, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether a pid is alive and not a zombie.</summary>
    public static bool IsAlive(int pid) => File.Exists($"/proc/{pid}/stat") && !IsZombie(pid);

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is 'Z' or 'X';
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return condition();
    }

    /// <summary>A process's open-file limit, as <c>/proc/PID/limits</c> shows it.</summary>
    public static (ulong Soft, ulong Hard) OpenFileLimit(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (ulong.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture), ulong.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
