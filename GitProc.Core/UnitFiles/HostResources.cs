using System.Globalization;

namespace GitProc.UnitFiles;

/// <summary>
/// The machine's totals that percentages in unit files refer to: physical memory (<c>MemoryMax=50%</c>) and the
/// kernel's pid limit (<c>TasksMax=10%</c>). Read once from <c>/proc</c>; <see langword="null"/> where unavailable.
/// </summary>
internal static class HostResources
{
    private static readonly Lazy<long?> PhysicalMemory = new(ReadPhysicalMemory);
    private static readonly Lazy<long?> PidMax = new(ReadPidMax);

    /// <summary>MemTotal from <c>/proc/meminfo</c>, in bytes.</summary>
    internal static long? PhysicalMemoryBytes => PhysicalMemory.Value;

    /// <summary><c>/proc/sys/kernel/pid_max</c>.</summary>
    internal static long? MaxPids => PidMax.Value;

    private static long? ReadPhysicalMemory()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    continue;
                }

                var parts = line["MemTotal:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kibibytes)
                    ? kibibytes * 1024
                    : null;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static long? ReadPidMax()
    {
        try
        {
            var text = File.ReadAllText("/proc/sys/kernel/pid_max").Trim();
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
