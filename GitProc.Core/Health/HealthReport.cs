namespace GitProc.Health;

/// <summary>The health of one watched service at a moment.</summary>
public sealed record HealthReport
{
    /// <summary>The service.</summary>
    public required string Service { get; init; }

    /// <summary>The current verdict.</summary>
    public required HealthState State { get; init; }

    /// <summary>When the last check completed; <see langword="null"/> before the first one.</summary>
    public DateTimeOffset? LastCheck { get; init; }

    /// <summary>When the last successful check completed; <see langword="null"/> if none has succeeded.</summary>
    public DateTimeOffset? LastSuccess { get; init; }

    /// <summary>
    /// Why the last failed check failed, in a few words (<c>HTTP 503 Service Unavailable</c>,
    /// <c>connection refused</c>, <c>timed out after 5s</c>); <see langword="null"/> if none has failed.
    /// Kept after a later success, with <see cref="LastErrorTime"/> telling when it happened.
    /// </summary>
    public string? LastError { get; init; }

    /// <summary>When the last failed check completed; <see langword="null"/> if none has failed.</summary>
    public DateTimeOffset? LastErrorTime { get; init; }

    /// <summary>Failed checks since the last success that count toward the retries (those in the start period do not).</summary>
    public int ConsecutiveFailures { get; init; }
}
