namespace GitProc.Supervision;

/// <summary>
/// The one place where a <see cref="ServiceSubState"/> becomes the word users see and scripts match on: status output,
/// IPC and event JSON, the web page. These words are systemd's and must never change.
/// </summary>
internal static class ServiceSubStateText
{
    public const string Dead = "dead";
    public const string Condition = "condition";
    public const string Running = "running";
    public const string Exited = "exited";
    public const string AutoRestart = "auto-restart";
    public const string WaitingForResources = "waiting-for-resources";

    public static string ToText(this ServiceSubState subState) => subState switch
    {
        ServiceSubState.Dead => Dead,
        ServiceSubState.Condition => Condition,
        ServiceSubState.Starting => "starting",
        ServiceSubState.Running => Running,
        ServiceSubState.Stopping => "stopping",
        ServiceSubState.Reloading => "reloading",
        ServiceSubState.Exited => Exited,
        ServiceSubState.AutoRestart => AutoRestart,
        ServiceSubState.WaitingForResources => WaitingForResources,
        ServiceSubState.Failed => "failed",
        ServiceSubState.StartLimitHit => "start-limit-hit",
        ServiceSubState.DependencyFailed => "dependency-failed",
        _ => throw new ArgumentOutOfRangeException(nameof(subState), subState, null),
    };
}
