namespace GitProc.State;

/// <summary>
/// The state file's top-level object. Kept apart from <see cref="SupervisorState"/> so the on-disk format carries a
/// <see cref="Version"/> and can evolve (a later format is migrated on load) without changing the public record.
/// </summary>
internal sealed record StateDocument
{
    /// <summary>The format this code writes.</summary>
    public const int CurrentVersion = 1;

    public int Version { get; init; }

    public string? AppliedCommit { get; init; }

    public RejectedCommit? RejectedCommit { get; init; }

    public Dictionary<string, ServiceRecord>? Services { get; init; }

    public List<UnitSnapshot>? AppliedUnits { get; init; }
}
