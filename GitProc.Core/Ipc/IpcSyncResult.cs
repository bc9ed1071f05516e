namespace GitProc.Ipc;

/// <summary>The data of a successful <c>sync</c>: the applied commit, what changed, and the applied commit's warnings.</summary>
public sealed record IpcSyncResult
{
    /// <summary>The commit now applied (full hash); empty when the watched branch has no commit yet.</summary>
    public string Commit { get; init; } = "";

    /// <summary>The watched branch.</summary>
    public string Branch { get; init; } = "";

    /// <summary>The units repository.</summary>
    public string Repository { get; init; } = "";

    /// <summary>How many services were started, restarted or stopped.</summary>
    public int Reloaded { get; init; }

    /// <summary>Services added and started.</summary>
    public IReadOnlyList<string> Started { get; init; } = [];

    /// <summary>Services whose unit changed and that were restarted.</summary>
    public IReadOnlyList<string> Restarted { get; init; } = [];

    /// <summary>Services removed and stopped.</summary>
    public IReadOnlyList<string> Stopped { get; init; } = [];

    /// <summary>
    /// What the applied commit has that GitProc does not act on, every unit's, one <c>FILE:LINE: KEY: message</c> string
    /// each (whichever sync applied the commit).
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>
    /// With <c>wait</c>: what became of the commit once its verification ended (<c>applied</c>, <c>rolled back</c>,
    /// <c>superseded</c>); <see langword="null"/> without.
    /// </summary>
    public string? Result { get; init; }

    /// <summary>With <c>wait</c>, when the commit was rolled back: why.</summary>
    public string? RollbackReason { get; init; }

    /// <summary>With <c>wait</c>, when the commit was rolled back: the commit whose definitions run again.</summary>
    public string? RestoredCommit { get; init; }
}
