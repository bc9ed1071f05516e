namespace GitProc.Ipc;

/// <summary>The data of a successful <c>stop</c>: <c>{"service": NAME}</c>.</summary>
public sealed record IpcStopResult
{
    /// <summary>The service name.</summary>
    public string Service { get; init; } = "";
}
