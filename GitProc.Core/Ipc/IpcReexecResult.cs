namespace GitProc.Ipc;

/// <summary>The data of a successful <c>reexec</c>: the daemon's pid, which the upgrade keeps.</summary>
public sealed record IpcReexecResult
{
    /// <summary>The daemon's pid.</summary>
    public int Pid { get; init; }
}
