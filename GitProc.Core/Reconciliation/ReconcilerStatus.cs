using GitProc.State;

namespace GitProc.Reconciliation;

/// <summary>Where the reconciler stands.</summary>
/// <param name="Branch">The watched branch.</param>
/// <param name="AppliedCommit">The applied commit, if any.</param>
/// <param name="Rejected">The last rejected commit, while the branch tip is that commit.</param>
public sealed record ReconcilerStatus(string Branch, string? AppliedCommit, RejectedCommit? Rejected)
{
    /// <summary>
    /// Why the repository could not be read the last time it was tried (a missing repository, a corrupt object),
    /// while that lasts; <see langword="null"/> when the last read worked. What runs meanwhile is the last applied set.
    /// </summary>
    public string? GitError { get; init; }

    /// <summary>
    /// What the applied commit has that GitProc does not act on (keys it ignores or that sit in the wrong section,
    /// dependencies on units that are not services), by service name: the unit's warnings as <c>FILE:LINE: KEY: message</c>
    /// lines (<c>FILE: message</c> where no line is known). Services without warnings are left out.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Warnings { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The applied commit whose services are still being verified, if one is.</summary>
    public string? VerifyingCommit { get; init; }

    /// <summary>When the verification of <see cref="VerifyingCommit"/> ends at the latest.</summary>
    public DateTimeOffset? VerifyingUntil { get; init; }

    /// <summary>While the newest commit the daemon saw is one rolled back after failing verification: its record.</summary>
    public Delivery.DeliveryRecord? LastRollback { get; init; }

    /// <summary>The last fetch of the remote and the next; <see langword="null"/> without a remote.</summary>
    public FetchStatus? Fetch { get; init; }
}
