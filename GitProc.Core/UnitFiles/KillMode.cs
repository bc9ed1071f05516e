namespace GitProc.UnitFiles;

/// <summary><c>[Service] KillMode=</c>: which processes a stop signals, and what is left of a service that ended.</summary>
public enum KillMode
{
    /// <summary>
    /// Every process of the service (its cgroup, else its process group and session) gets the stop signal, then SIGKILL
    /// after <c>TimeoutStopSec</c>; whatever is left when the main process ends on its own is stopped too. The default.
    /// </summary>
    ControlGroup,

    /// <summary>The main process gets the stop signal; whatever is left once it is gone (or at the timeout) gets SIGKILL.</summary>
    Mixed,

    /// <summary>Only the main process is signalled; processes it forked are left running (systemd discourages this).</summary>
    Process,
}
