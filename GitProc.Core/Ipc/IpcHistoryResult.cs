namespace GitProc.Ipc;

/// <summary>The data of a successful <c>history</c>: <c>{"records": [...]}</c>, newest first.</summary>
public sealed record IpcHistoryResult
{
    /// <summary>The records.</summary>
    public IReadOnlyList<IpcHistoryRecord> Records { get; init; } = [];
}
