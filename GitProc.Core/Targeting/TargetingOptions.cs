namespace GitProc.Targeting;

/// <summary>
/// What this daemon runs: the branch whose tip is the desired state, and the host its units' <c>ConditionHost=</c> is
/// matched against. The top-level keys of <see cref="GitProcOptions"/> of the same names (<c>GitProc:WatchBranch</c>,
/// <c>GitProc:HostName</c>, <c>GitProc:MachineId</c>), from which this is derived.
/// </summary>
public sealed class TargetingOptions
{
    /// <summary>The branch whose tip is the desired state. Default <c>main</c>.</summary>
    public string WatchBranch { get; set; } = "main";

    /// <summary>
    /// The name units' <c>ConditionHost=</c> patterns are matched against, and part of what spreads this daemon's fetches
    /// over the interval. Default: the machine's host name (the kernel's node name, as <c>hostname</c> prints it, whole).
    /// </summary>
    public string HostName { get; set; } = LocalHost.Name;

    /// <summary>
    /// The machine id a <c>ConditionHost=</c> that names one is compared with: 32 hexadecimal digits. Default: the content
    /// of <c>/etc/machine-id</c>; <see langword="null"/> when that file is missing, and then such conditions never hold.
    /// </summary>
    public string? MachineId { get; set; } = LocalHost.MachineId;
}
