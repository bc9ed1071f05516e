namespace GitProc.Ipc;

/// <summary>The commands of the IPC protocol, as they appear in a request's <c>command</c> field.</summary>
public static class IpcCommands
{
    /// <summary><c>start</c>: starts a service; data <c>{"pid", "service"}</c>.</summary>
    public const string Start = "start";

    /// <summary><c>stop</c>: stops a service; data <c>{"service"}</c>.</summary>
    public const string Stop = "stop";

    /// <summary><c>restart</c>: restarts a service; data <c>{"pid", "service"}</c>.</summary>
    public const string Restart = "restart";

    /// <summary>
    /// <c>reload</c>: runs a running service's <c>ExecReload=</c> commands, or sends its <c>ReloadSignal=</c>; data
    /// <c>{"pid", "service"}</c> (the main process, unchanged).
    /// </summary>
    public const string Reload = "reload";

    /// <summary><c>status</c>: one service's status; data <see cref="IpcStatusResult"/>.</summary>
    public const string Status = "status";

    /// <summary><c>logs</c>: a service's last lines, then new ones with <c>follow</c>; data <c>{"logs"}</c>.</summary>
    public const string Logs = "logs";

    /// <summary><c>list</c>: every service; data <c>{"services": [...]}</c>.</summary>
    public const string List = "list";

    /// <summary><c>rollback</c>: restores a commit's tree as a new commit; data <see cref="IpcRollbackResult"/>.</summary>
    public const string Rollback = "rollback";

    /// <summary><c>sync</c>: applies the tip of the watched branch now; data <see cref="IpcSyncResult"/>.</summary>
    public const string Sync = "sync";

    /// <summary>
    /// <c>reexec</c>: an in-place upgrade; data <c>{"pid"}</c> (the daemon's, unchanged by the upgrade), then the daemon
    /// re-executes its binary keeping every service running.
    /// </summary>
    public const string Reexec = "reexec";

    /// <summary><c>plan</c>: what applying a commit would do; data <see cref="IpcPlanResult"/>.</summary>
    public const string Plan = "plan";

    /// <summary><c>history</c>: the commits the daemon saw and what became of them; data <see cref="IpcHistoryResult"/>.</summary>
    public const string History = "history";

    /// <summary>
    /// <c>subscribe</c>: data <see cref="IpcSubscribeResult"/>, then one event object a line (not wrapped in a response)
    /// until the client closes; a subscriber that falls behind gets one error response saying so and is closed
    /// (<c>docs/events.md</c>).
    /// </summary>
    public const string Subscribe = "subscribe";

    /// <summary>How many log lines <c>logs</c> returns when the request does not say: 100, as in the reference API.</summary>
    public const int DefaultLogLines = 100;
}
