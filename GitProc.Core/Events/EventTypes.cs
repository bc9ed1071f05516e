namespace GitProc.Events;

/// <summary>The <see cref="GitProcEvent.Type"/> of each event (documented in <c>docs/events.md</c>).</summary>
public static class EventTypes
{
    /// <summary>A service's status or sub-state changed.</summary>
    public const string ServiceRecord = "service.state";

    /// <summary>
    /// The kernel's OOM killer killed processes of a service (any in its cgroup); the reason says how many, the memory
    /// limit, and what <c>OOMPolicy=</c> does about it. A stop it causes follows as a <see cref="ServiceRecord"/> event.
    /// </summary>
    public const string ServiceOomKill = "service.oom_kill";

    /// <summary>A commit was applied: what it started, restarted and stopped.</summary>
    public const string CommitApplied = "commit.applied";

    /// <summary>A commit was rejected whole; the last good one keeps running.</summary>
    public const string CommitRejected = "commit.rejected";

    /// <summary>An applied commit passed its verify window and is kept.</summary>
    public const string CommitVerified = "commit.verified";

    /// <summary>An applied commit failed verification: the previous definitions were put back.</summary>
    public const string CommitRolledBack = "commit.rolled_back";

    /// <summary>A commit still in its verify window was replaced by a newer one.</summary>
    public const string CommitSuperseded = "commit.superseded";

    /// <summary>A service's health verdict changed.</summary>
    public const string HealthChanged = "health.changed";

    /// <summary>The remote was fetched, or the fetch failed.</summary>
    public const string GitFetch = "git.fetch";

    /// <summary>Every type, for validating a subscriber's filter.</summary>
    public static IReadOnlyList<string> All { get; } =
        [ServiceRecord, ServiceOomKill, CommitApplied, CommitRejected, CommitVerified, CommitRolledBack, CommitSuperseded, HealthChanged, GitFetch];
}
