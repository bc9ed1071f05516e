using System.Globalization;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;

namespace GitProc.ResourceControl;

/// <summary>
/// A service's cgroup in the v1 hierarchies: one directory each in memory, cpu, cpuacct (when it is a hierarchy of
/// its own) and pids. A process must join every one of them.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class V1ServiceCgroup : ServiceCgroup
{
    internal const int CpuPeriodMicroseconds = 100_000;

    private readonly string _memory;
    private readonly string _cpu;
    private readonly string _cpuAcct;
    private readonly string _pids;

    public V1ServiceCgroup(
        string service,
        string memory,
        string cpu,
        string? cpuAcct,
        string pids,
        ResourceLimits limits,
        TimeSpan removeTimeout,
        TimeProvider timeProvider,
        ILogger logger)
        : base(service, cpuAcct is null ? [memory, cpu, pids] : [memory, cpu, cpuAcct, pids], "tasks", limits, removeTimeout, timeProvider, logger)
    {
        _memory = memory;
        _cpu = cpu;
        _cpuAcct = cpuAcct ?? cpu;
        _pids = pids;
    }

    public override ResourceControlBackend Backend => ResourceControlBackend.V1;

    public override async Task<long> GetOomKillCountAsync(CancellationToken cancellationToken = default) =>
        await CgroupFiles.ReadKeyAsync(Path.Combine(_memory, "memory.oom_control"), "oom_kill", cancellationToken).ConfigureAwait(false) ?? 0;

    /// <summary>
    /// Only <c>memory.limit_in_bytes</c> is set, as systemd's <c>MemoryLimit=</c> on v1 does: swap
    /// (<c>memory.memsw.*</c>) is left alone. Unset limits are written as <c>-1</c> (memory, CPU) and <c>max</c> (pids).
    /// </summary>
    internal override async Task ApplyLimitsAsync(ResourceLimits limits, CancellationToken cancellationToken)
    {
        await CgroupFiles.WriteAsync(
            Path.Combine(_memory, "memory.limit_in_bytes"),
            limits.MemoryMax is { } memory ? Invariant(memory) : "-1",
            "memory limit",
            Service,
            cancellationToken).ConfigureAwait(false);
        await CgroupFiles.WriteAsync(
            Path.Combine(_cpu, "cpu.cfs_period_us"), Invariant(CpuPeriodMicroseconds), "CPU period", Service, cancellationToken).ConfigureAwait(false);
        await CgroupFiles.WriteAsync(
            Path.Combine(_cpu, "cpu.cfs_quota_us"),
            limits.CpuQuotaPercent is { } percent ? Invariant(CpuQuotaMicroseconds(percent, CpuPeriodMicroseconds)) : "-1",
            "CPU quota",
            Service,
            cancellationToken).ConfigureAwait(false);
        await CgroupFiles.WriteAsync(
            Path.Combine(_pids, "pids.max"), limits.TasksMax is { } tasks ? Invariant(tasks) : "max", "tasks limit", Service, cancellationToken).ConfigureAwait(false);
    }

    protected override Task<long?> ReadMemoryBytesAsync(CancellationToken cancellationToken) =>
        CgroupFiles.ReadNumberAsync(Path.Combine(_memory, "memory.usage_in_bytes"), cancellationToken);

    protected override async Task<TimeSpan?> ReadCpuTimeAsync(CancellationToken cancellationToken) =>
        await CgroupFiles.ReadNumberAsync(Path.Combine(_cpuAcct, "cpuacct.usage"), cancellationToken).ConfigureAwait(false) is { } nanoseconds
            ? TimeSpan.FromTicks(nanoseconds / 100)
            : null;

    protected override Task<long?> ReadTaskCountAsync(CancellationToken cancellationToken) =>
        CgroupFiles.ReadNumberAsync(Path.Combine(_pids, "pids.current"), cancellationToken);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
