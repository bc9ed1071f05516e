namespace GitProc.ResourceControl;

/// <summary>What a service's cgroup uses now; a value is <see langword="null"/> where the host does not report it.</summary>
/// <param name="MemoryBytes">Memory charged to the cgroup (v2 <c>memory.current</c>, v1 <c>memory.usage_in_bytes</c>; includes page cache).</param>
/// <param name="CpuTime">CPU time used by every process that ever ran in the cgroup (v2 <c>cpu.stat</c> <c>usage_usec</c>, v1 <c>cpuacct.usage</c>).</param>
/// <param name="CpuPercent">
/// Recent CPU use in percent of one CPU (as <c>CPUQuota</c>; 200 is two cores busy): the CPU time used since the
/// previous reading of this cgroup divided by the wall time since then (since its creation for the first reading).
/// </param>
/// <param name="TaskCount">Processes and threads in the cgroup (<c>pids.current</c>).</param>
public sealed record ResourceUsage(long? MemoryBytes, TimeSpan? CpuTime, double? CpuPercent, long? TaskCount);
