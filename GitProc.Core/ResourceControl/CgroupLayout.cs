namespace GitProc.ResourceControl;

/// <summary>
/// Where the root cgroup lives in each hierarchy, as found by <see cref="CgroupDetector"/>: the unified directory
/// for v2; for v1, one directory per controller hierarchy (<see cref="CpuAcct"/> is <see langword="null"/> when
/// cpuacct shares the cpu hierarchy, as <c>cpu,cpuacct</c> does on most hosts, or is absent).
/// </summary>
internal sealed record CgroupLayout(ResourceControlStatus Status)
{
    public string? Unified { get; init; }

    public string? Memory { get; init; }

    public string? Cpu { get; init; }

    public string? CpuAcct { get; init; }

    public string? Pids { get; init; }

    /// <summary>The root's directories created by the detection (deepest last), which disposal removes again.</summary>
    public IReadOnlyList<string> CreatedDirectories { get; init; } = [];

    public static CgroupLayout NotEnforced(string reason) => new(new ResourceControlStatus(ResourceControlBackend.None, reason, []));
}
