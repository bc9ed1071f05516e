namespace GitProc.State;

/// <summary>Everything the daemon persists between runs.</summary>
public sealed record SupervisorState
{
    /// <summary>The Git commit whose units are applied; <see langword="null"/> before the first.</summary>
    public string? AppliedCommit { get; init; }

    /// <summary>The last commit that was rejected (invalid unit, cycle), with why; <see langword="null"/> when none.</summary>
    public RejectedCommit? RejectedCommit { get; init; }

    /// <summary>Per-service state, by service name.</summary>
    public IReadOnlyDictionary<string, ServiceRecord> Services { get; init; } = new Dictionary<string, ServiceRecord>();

    /// <summary>
    /// The unit files of <see cref="AppliedCommit"/> as they were applied, so a daemon can run what it ran before even
    /// when the commit cannot be read from Git (a corrupt or missing object); empty in a state written before they
    /// were kept.
    /// </summary>
    public IReadOnlyList<UnitSnapshot> AppliedUnits { get; init; } = [];
}
