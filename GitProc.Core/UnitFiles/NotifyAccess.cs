namespace GitProc.UnitFiles;

/// <summary>
/// <c>[Service] NotifyAccess=</c>: which processes may send readiness and status notifications (sd_notify(3)) to the
/// service's notification socket. A notification from any other process is refused and logged.
/// </summary>
public enum NotifyAccess
{
    /// <summary>No process: every notification is ignored (and the service gets no <c>NOTIFY_SOCKET</c>).</summary>
    None,

    /// <summary>Only the main process (the default for <c>Type=notify</c> and for a unit with <c>WatchdogSec=</c>).</summary>
    Main,

    /// <summary>The main process and the control processes (<c>ExecStartPre=</c>, <c>ExecStartPost=</c>, <c>ExecStop=</c>, …).</summary>
    Exec,

    /// <summary>Any process of the service: its cgroup, or where there are no cgroups its process tree.</summary>
    All,
}
