using GitProc.Delivery;
using GitProc.Events;
using GitProc.Git;
using GitProc.Health;
using GitProc.Ipc;
using GitProc.Logs;
using GitProc.Metrics;
using GitProc.ResourceControl;
using GitProc.UnitFiles;
using GitProc.Web;

namespace GitProc;

/// <summary>
/// Every GitProc setting in the shape of its configuration (the <c>GitProc</c> section, the daemon's config file):
/// where GitProc keeps its repository, state, socket and logs, and the options of each component.
/// Defaults depend on whether the process is privileged: root gets the system paths, everyone else the XDG ones.
/// </summary>
/// <remarks>
/// Components do not take this whole: each takes its own part, derived from it by
/// <see cref="Microsoft.Extensions.DependencyInjection.GitProcServiceCollectionExtensions.AddGitProc"/>: a section as
/// <c>IOptions&lt;GitOptions&gt;</c>, <c>IOptions&lt;LogOptions&gt;</c>, … (the same instance as <see cref="Git"/>,
/// <see cref="Logs"/>, …), the top-level paths as <c>IOptions&lt;PathOptions&gt;</c>, and the branch and host as
/// <c>IOptions&lt;TargetingOptions&gt;</c>.
/// </remarks>
public sealed class GitProcOptions
{
    /// <summary>The configuration section the hosting package binds: <c>GitProc</c>.</summary>
    public const string SectionName = "GitProc";

    /// <summary>
    /// The Git repository of unit files. Default <c>/etc/gitproc/services</c> as root, else
    /// <c>$XDG_DATA_HOME/gitproc/services</c>.
    /// </summary>
    public string RepositoryPath { get; set; } = DefaultPaths.Repository;

    /// <summary>
    /// The state file. Default <c>/var/lib/gitproc/state.json</c> as root, else
    /// <c>$XDG_STATE_HOME/gitproc/state.json</c>.
    /// </summary>
    public string StatePath { get; set; } = DefaultPaths.State;

    /// <summary>
    /// The daemon's Unix socket. Default <c>/run/gitproc.sock</c> as root, else <c>$XDG_RUNTIME_DIR/gitproc.sock</c>.
    /// </summary>
    public string SocketPath { get; set; } = DefaultPaths.Socket;

    /// <summary>
    /// The directory of service logs (<c>NAME.log</c>). Default <c>/var/log/gitproc</c> as root, else
    /// <c>$XDG_STATE_HOME/gitproc/logs</c>.
    /// </summary>
    public string LogDirectory { get; set; } = DefaultPaths.LogDirectory;

    /// <summary>The branch whose tip is the desired state. Default <c>main</c>.</summary>
    public string WatchBranch { get; set; } = "main";

    /// <summary>
    /// The name units' <c>ConditionHost=</c> patterns are matched against, and part of what spreads this daemon's fetches
    /// over the interval. Default: the machine's host name (the kernel's node name, as <c>hostname</c> prints it, whole).
    /// Set it where several daemons share a machine (containers, tests) or a fleet names hosts by role.
    /// </summary>
    public string HostName { get; set; } = Targeting.LocalHost.Name;

    /// <summary>
    /// The machine id a <c>ConditionHost=</c> that names one is compared with: 32 hexadecimal digits. Default: the content
    /// of <c>/etc/machine-id</c>; <see langword="null"/> when that file is missing, and then such conditions never hold.
    /// </summary>
    public string? MachineId { get; set; } = Targeting.LocalHost.MachineId;

    /// <summary>The optional remote the watched branch follows, and how often the branch is fetched and polled.</summary>
    public GitOptions Git { get; set; } = new();

    /// <summary>Service log files: rotation size and how many old files are kept.</summary>
    public LogOptions Logs { get; set; } = new();

    /// <summary>The IPC socket: its permissions, connection limit and idle timeout.</summary>
    public IpcOptions Ipc { get; set; } = new();

    /// <summary>Per-service cgroups.</summary>
    public ResourceControlOptions ResourceControl { get; set; } = new();

    /// <summary>HTTP health checks.</summary>
    public HealthOptions Health { get; set; } = new();

    /// <summary>How strictly unit files are read: whether an unknown key is an error (the default) or a warning.</summary>
    public UnitFileOptions UnitFiles { get; set; } = new();

    /// <summary>How applied commits are verified, rolled back and remembered.</summary>
    public DeliveryOptions Delivery { get; set; } = new();

    /// <summary>The event stream: how far a subscriber may fall behind before it is dropped.</summary>
    public EventOptions Events { get; set; } = new();

    /// <summary>The daemon's Prometheus endpoint (<c>Metrics:Listen</c>); off by default.</summary>
    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>The daemon's read-only status page (<c>Web:Listen</c>); off by default.</summary>
    public WebOptions Web { get; set; } = new();

    /// <summary>The top-level paths, as the components that need one take them.</summary>
    internal PathOptions ToPaths() => new()
    {
        RepositoryPath = RepositoryPath,
        StatePath = StatePath,
        SocketPath = SocketPath,
        LogDirectory = LogDirectory,
    };

    /// <summary>The branch and host, as the components that need them take them.</summary>
    internal Targeting.TargetingOptions ToTargeting() => new()
    {
        WatchBranch = WatchBranch,
        HostName = HostName,
        MachineId = MachineId,
    };
}
