namespace GitProc.Ipc;

/// <summary>One service in a <c>plan</c>: <c>{"service", "action", "changed", "reason"}</c>.</summary>
public sealed record IpcPlannedAction
{
    /// <summary>The service.</summary>
    public string Service { get; init; } = "";

    /// <summary><c>start</c>, <c>restart</c>, <c>stop</c> or <c>unchanged</c>.</summary>
    public string Action { get; init; } = "";

    /// <summary>For <c>restart</c>: the keys that changed.</summary>
    public IReadOnlyList<string> Changed { get; init; } = [];

    /// <summary>Why, where the action does not say it (a dependency pulled in, an operator's stop).</summary>
    public string? Reason { get; init; }
}
