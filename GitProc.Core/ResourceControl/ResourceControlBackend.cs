namespace GitProc.ResourceControl;

/// <summary>Which cgroup hierarchy enforces service limits.</summary>
public enum ResourceControlBackend
{
    /// <summary>No cgroups: services run without limits (see <see cref="ResourceControlStatus.Reason"/>).</summary>
    None,

    /// <summary>cgroup v1: one hierarchy per controller (memory, cpu, cpuacct, pids).</summary>
    V1,

    /// <summary>cgroup v2: the unified hierarchy with the memory, cpu and pids controllers.</summary>
    V2,
}
