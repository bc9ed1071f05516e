namespace GitProc.ResourceControl;

/// <summary>Per-service cgroups.</summary>
public sealed class ResourceControlOptions
{
    /// <summary>Whether services get cgroups at all. Default <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The cgroup (relative to each hierarchy's mount) under which every service gets its own. Default <c>gitproc</c>.</summary>
    public string CgroupRoot { get; set; } = "gitproc";

    /// <summary>The cgroup file system's mount point. Default <c>/sys/fs/cgroup</c>.</summary>
    public string CgroupMountPoint { get; set; } = "/sys/fs/cgroup";
}
