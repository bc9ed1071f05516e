namespace GitProc.Ipc;

/// <summary>The data of a successful <c>start</c> or <c>restart</c>: <c>{"pid": N, "service": NAME}</c>.</summary>
public sealed record IpcStartResult
{
    /// <summary>The main process's pid; <see langword="null"/> when none runs (a oneshot that already ended).</summary>
    public int? Pid { get; init; }

    /// <summary>The service name.</summary>
    public string Service { get; init; } = "";
}
