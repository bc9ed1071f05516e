using System.Globalization;
using GitProc.UnitFiles;

namespace GitProc.ResourceControl;

/// <summary>The limits of one service's cgroup; <see langword="null"/> means no limit.</summary>
/// <param name="MemoryMax">Memory in bytes (<c>MemoryMax</c>); the kernel OOM-kills a process of the service beyond it.</param>
/// <param name="CpuQuotaPercent">CPU time in percent of one CPU (<c>CPUQuota</c>); may exceed 100.</param>
/// <param name="TasksMax">Processes and threads (<c>TasksMax</c>); a fork beyond it fails.</param>
public sealed record ResourceLimits(long? MemoryMax, int? CpuQuotaPercent, long? TasksMax)
{
    /// <summary>No limits.</summary>
    public static ResourceLimits None { get; } = new(null, null, null);

    /// <summary>At least one limit is set.</summary>
    public bool HasAny => MemoryMax is not null || CpuQuotaPercent is not null || TasksMax is not null;

    /// <summary>The limits a unit asks for: <c>MemoryMax</c>/<c>MemoryLimit</c>, <c>CPUQuota</c>, <c>TasksMax</c>.</summary>
    /// <param name="unit">The parsed unit.</param>
    /// <returns>The unit's limits.</returns>
    public static ResourceLimits From(UnitFile unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        return new ResourceLimits(unit.MemoryLimit, unit.CpuQuota, unit.TasksMax);
    }

    /// <summary>The limits in unit-file syntax, for messages: <c>MemoryMax=52428800 CPUQuota=20% TasksMax=10</c>.</summary>
    /// <returns>The set limits, or <c>none</c>.</returns>
    public override string ToString()
    {
        var parts = new List<string>(3);
        if (MemoryMax is { } memory)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"MemoryMax={memory}"));
        }

        if (CpuQuotaPercent is { } cpu)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"CPUQuota={cpu}%"));
        }

        if (TasksMax is { } tasks)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"TasksMax={tasks}"));
        }

        return parts.Count == 0 ? "none" : string.Join(' ', parts);
    }
}
