namespace GitProc.Ipc;

/// <summary>The data of a successful <c>list</c>: <c>{"services": [...]}</c>, ordered by name.</summary>
public sealed record IpcListResult
{
    /// <summary>Every known service.</summary>
    public IReadOnlyList<IpcListEntry> Services { get; init; } = [];
}
