namespace GitProc.Delivery;

/// <summary>One commit the daemon saw on the watched branch, and what became of it.</summary>
public sealed record DeliveryRecord
{
    /// <summary>The commit's full hash.</summary>
    public required string Commit { get; init; }

    /// <summary>The commit's author, as <c>Name &lt;email&gt;</c>; <see langword="null"/> when unknown.</summary>
    public string? Author { get; init; }

    /// <summary>The first line of the commit message.</summary>
    public string? Subject { get; init; }

    /// <summary>When the daemon first saw it.</summary>
    public DateTimeOffset Received { get; init; }

    /// <summary>When it was applied; <see langword="null"/> when it was not.</summary>
    public DateTimeOffset? Applied { get; init; }

    /// <summary>What became of it.</summary>
    public DeliveryResult Result { get; init; }

    /// <summary>Services it started.</summary>
    public IReadOnlyList<string> Started { get; init; } = [];

    /// <summary>Services it restarted.</summary>
    public IReadOnlyList<string> Restarted { get; init; } = [];

    /// <summary>Services it stopped.</summary>
    public IReadOnlyList<string> Stopped { get; init; } = [];

    /// <summary>Why it was rejected, or why its verification failed.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>Why it was rolled back, when it was.</summary>
    public string? RollbackReason { get; init; }

    /// <summary>The commit whose definitions were put back, when it was rolled back.</summary>
    public string? RestoredCommit { get; init; }

    /// <summary>When the fetch that brought it from the remote finished; <see langword="null"/> for a local commit.</summary>
    public DateTimeOffset? Fetched { get; init; }

    /// <summary>
    /// When the remote had rewritten its branch (a force-push) and this commit replaced the local tip: that tip.
    /// </summary>
    public string? ReplacedCommit { get; init; }
}
