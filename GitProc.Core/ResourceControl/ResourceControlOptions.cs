namespace GitProc.ResourceControl;

/// <summary>Per-service cgroups.</summary>
public sealed class ResourceControlOptions
{
    /// <summary>
    /// Whether services get cgroups at all. Default <see langword="true"/>. When <see langword="false"/>, services
    /// run without cgroups and the status says that limits are not enforced.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Whether a service without limits (no <c>MemoryMax=</c>, <c>CPUQuota=</c> or <c>TasksMax=</c>) gets a cgroup
    /// too. Default <see langword="true"/>, as systemd does: a stop then reaches every process the service ever
    /// forked, even one that left its session. <see langword="false"/> trades that for start-up speed: on cgroup v2,
    /// joining a cgroup waits for an RCU grace period (several milliseconds) unless the hierarchy is mounted with
    /// <c>favordynmods</c>, and a service without a cgroup skips it; its stop reaches its process group, its session
    /// and what they forked. (On v1 the join avoids that wait; see <see cref="IServiceCgroup.JoinFiles"/>.)
    /// </summary>
    public bool CgroupForEveryService { get; set; } = true;

    /// <summary>
    /// The cgroup (relative to each hierarchy's mount) under which every service gets its own; may be nested
    /// (<c>a/b</c>). It holds no process itself. Default <c>gitproc</c>.
    /// </summary>
    public string CgroupRoot { get; set; } = "gitproc";

    /// <summary>
    /// The cgroup file system's mount point: the unified (v2) hierarchy itself, or the directory holding the v1
    /// hierarchies (<c>memory</c>, <c>cpu</c>, <c>pids</c>, …). Default <c>/sys/fs/cgroup</c>.
    /// </summary>
    public string CgroupMountPoint { get; set; } = "/sys/fs/cgroup";

    /// <summary>
    /// How often each running service's OOM-kill counter is read, so that an OOM kill of any of its processes is acted
    /// on (<c>OOMPolicy=</c>) while the service runs, not only when its main process ends. Default 500 ms;
    /// <see cref="TimeSpan.Zero"/> reads it only when the main process ends.
    /// </summary>
    public TimeSpan OomPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long removing a cgroup waits for its processes to die after SIGKILL before giving up with an error.
    /// Default 10 seconds.
    /// </summary>
    public TimeSpan RemoveTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
