namespace GitProc.Ipc;

/// <summary>One commit in <c>history</c>, and what became of it.</summary>
public sealed record IpcHistoryRecord
{
    /// <summary>The commit's full hash.</summary>
    public string Commit { get; init; } = "";

    /// <summary>Its author, <c>Name &lt;email&gt;</c>.</summary>
    public string? Author { get; init; }

    /// <summary>The first line of its message.</summary>
    public string? Subject { get; init; }

    /// <summary>When the daemon first saw it.</summary>
    public DateTimeOffset Received { get; init; }

    /// <summary>When it was applied, if it was.</summary>
    public DateTimeOffset? Applied { get; init; }

    /// <summary><c>verifying</c>, <c>applied</c>, <c>rejected</c>, <c>rolled back</c> or <c>superseded</c>.</summary>
    public string Result { get; init; } = "";

    /// <summary>Services it started.</summary>
    public IReadOnlyList<string> Started { get; init; } = [];

    /// <summary>Services it restarted.</summary>
    public IReadOnlyList<string> Restarted { get; init; } = [];

    /// <summary>Services it stopped.</summary>
    public IReadOnlyList<string> Stopped { get; init; } = [];

    /// <summary>Why it was rejected or failed verification.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>Why it was rolled back, when it was.</summary>
    public string? RollbackReason { get; init; }

    /// <summary>The commit whose definitions were put back, when it was rolled back.</summary>
    public string? RestoredCommit { get; init; }

    /// <summary>When the fetch that brought it from the remote finished; absent for a local commit.</summary>
    public DateTimeOffset? Fetched { get; init; }

    /// <summary>The local tip it replaced when the remote had rewritten its branch (a force-push).</summary>
    public string? ReplacedCommit { get; init; }
}
