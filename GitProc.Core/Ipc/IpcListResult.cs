namespace GitProc.Ipc;

/// <summary>The data of a successful <c>list</c>: <c>{"services": [...]}</c>, ordered by name.</summary>
public sealed record IpcListResult
{
    /// <summary>Every known service.</summary>
    public IReadOnlyList<IpcListEntry> Services { get; init; } = [];

    /// <summary>
    /// While the branch's newest commit is one that failed verification and was rolled back: the commit, why, and what
    /// runs instead; <see langword="null"/> otherwise.
    /// </summary>
    public string? RolledBack { get; init; }
}
