using System.Globalization;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;

namespace GitProc.ResourceControl;

/// <summary>A service's cgroup in the unified (v2) hierarchy: one directory.</summary>
[SupportedOSPlatform("linux")]
internal sealed class V2ServiceCgroup : ServiceCgroup
{
    internal const int CpuPeriodMicroseconds = 100_000;

    private readonly string _directory;

    public V2ServiceCgroup(string service, string directory, ResourceLimits limits, TimeSpan removeTimeout, TimeProvider timeProvider, ILogger logger)
        : base(service, [directory], "cgroup.procs", limits, removeTimeout, timeProvider, logger)
    {
        _directory = directory;
    }

    public override ResourceControlBackend Backend => ResourceControlBackend.V2;

    public override async Task<long> GetOomKillCountAsync(CancellationToken cancellationToken = default) =>
        await CgroupFiles.ReadKeyAsync(File("memory.events"), "oom_kill", cancellationToken).ConfigureAwait(false) ?? 0;

    /// <summary>
    /// Swap is left alone (<c>memory.swap.max</c> unset), as systemd's <c>MemoryMax=</c> does: on a host with swap
    /// a service may swap beyond <c>MemoryMax</c> rather than be OOM-killed at it.
    /// </summary>
    internal override async Task ApplyLimitsAsync(ResourceLimits limits, CancellationToken cancellationToken)
    {
        await CgroupFiles.WriteAsync(
            File("memory.max"), limits.MemoryMax is { } memory ? Invariant(memory) : "max", "memory limit", Service, cancellationToken).ConfigureAwait(false);
        var quota = limits.CpuQuotaPercent is { } percent ? Invariant(CpuQuotaMicroseconds(percent, CpuPeriodMicroseconds)) : "max";
        await CgroupFiles.WriteAsync(
            File("cpu.max"), $"{quota} {Invariant(CpuPeriodMicroseconds)}", "CPU quota", Service, cancellationToken).ConfigureAwait(false);
        await CgroupFiles.WriteAsync(
            File("pids.max"), limits.TasksMax is { } tasks ? Invariant(tasks) : "max", "tasks limit", Service, cancellationToken).ConfigureAwait(false);
    }

    protected override Task<long?> ReadMemoryBytesAsync(CancellationToken cancellationToken) =>
        CgroupFiles.ReadNumberAsync(File("memory.current"), cancellationToken);

    protected override async Task<TimeSpan?> ReadCpuTimeAsync(CancellationToken cancellationToken) =>
        await CgroupFiles.ReadKeyAsync(File("cpu.stat"), "usage_usec", cancellationToken).ConfigureAwait(false) is { } usec
            ? TimeSpan.FromMicroseconds(usec)
            : null;

    protected override Task<long?> ReadTaskCountAsync(CancellationToken cancellationToken) =>
        CgroupFiles.ReadNumberAsync(File("pids.current"), cancellationToken);

    /// <summary>cgroup.kill (Linux 5.14) SIGKILLs every process in the cgroup atomically, forks in flight included.</summary>
    protected override async Task<bool> TryKillByKernelAsync(CancellationToken cancellationToken)
    {
        var kill = File("cgroup.kill");
        if (!System.IO.File.Exists(kill))
        {
            return false;
        }

        await CgroupFiles.WriteAsync(kill, "1", "SIGKILL for every process", Service, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private string File(string name) => Path.Combine(_directory, name);
}
