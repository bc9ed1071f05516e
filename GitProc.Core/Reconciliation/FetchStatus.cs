namespace GitProc.Reconciliation;

/// <summary>Where fetching the remote (<see cref="Git.GitOptions.RemoteUrl"/>) stands: the last attempt and the next.</summary>
public sealed record FetchStatus
{
    /// <summary>The remote's URL as it may be shown (without user information).</summary>
    public required string Remote { get; init; }

    /// <summary>When the last fetch ended; <see langword="null"/> before the first.</summary>
    public DateTimeOffset? LastFetch { get; init; }

    /// <summary>
    /// What the last fetch did: <c>up_to_date</c>, <c>fast_forwarded</c>, <c>local_ahead</c>, <c>forced</c> (the remote
    /// rewrote its history and the branch followed), or <c>failed</c>.
    /// </summary>
    public string? LastOutcome { get; init; }

    /// <summary>Why the last fetch failed, while the last one failed.</summary>
    public string? LastError { get; init; }

    /// <summary>When a fetch last succeeded.</summary>
    public DateTimeOffset? LastSuccess { get; init; }

    /// <summary>Failed fetches since the last success.</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>When the watch loop fetches next (after a failure: the backoff's next attempt).</summary>
    public DateTimeOffset? NextFetch { get; init; }
}
