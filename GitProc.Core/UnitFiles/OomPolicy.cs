namespace GitProc.UnitFiles;

/// <summary>
/// <c>[Service] OOMPolicy=</c>: what happens when the kernel's OOM killer kills a process of the service (any process in
/// its cgroup, not only the main one). Whatever the policy, an OOM kill of the main process itself is the result
/// <c>oom-kill</c>.
/// </summary>
public enum OomPolicy
{
    /// <summary>The service is stopped (its whole cgroup), the result is <c>oom-kill</c>, and <c>Restart=</c> applies. The default.</summary>
    Stop,

    /// <summary>The kill is logged and counted; the service keeps running.</summary>
    Continue,

    /// <summary>
    /// As systemd's kernel OOM group kill: every process of the service is killed at once (SIGKILL), the result is
    /// <c>oom-kill</c>, and <c>Restart=</c> applies.
    /// </summary>
    Kill,
}
