using GitProc.Git;

namespace GitProc.Reconciliation;

/// <summary>
/// When the watch loop fetches the remote next: at this daemon's phase of every <see cref="GitOptions.FetchInterval"/>
/// after a success, and after an exponentially growing, jittered delay after each consecutive failure.
/// </summary>
/// <remarks>
/// <para>
/// The phase is a fixed offset into the interval, counted from the Unix epoch, derived from a stable hash of the host
/// name and the repository path. A fleet's phases fall like independent random draws: never synchronized, though some
/// seconds get up to about twice the average (an even spread would need each host to know its rank in the fleet). Fixed
/// rather than redrawn each interval: a daemon then fetches exactly once per interval, so a push reaches every host
/// within one interval (fresh jitter leaves up to two between two fetches), and the server's load stays the same across
/// intervals and restarts. The repository path is in the hash so that daemons sharing a host (containers with one host
/// name, a benchmark) are spread too.
/// </para>
/// <para>
/// Retries are a plain schedule on <see cref="TimeProvider"/> rather than a Polly retry pipeline: the watch loop must keep
/// applying local commits between attempts, so it cannot wait inside a retry loop, and the next attempt's time has to be
/// known to show it in <c>status</c>.
/// </para>
/// </remarks>
internal sealed class FetchSchedule
{
    private readonly GitOptions _options;
    private readonly Func<double> _random;

    /// <param name="options">The intervals and delays.</param>
    /// <param name="identity">What the phase is derived from: the host name and repository path.</param>
    /// <param name="random">A number in [0, 1) for the retries' jitter.</param>
    public FetchSchedule(GitOptions options, string identity, Func<double> random)
    {
        _options = options;
        _random = random;
        Phase = PhaseOf(identity, options.FetchInterval);
    }

    /// <summary>This daemon's offset into each interval.</summary>
    public TimeSpan Phase { get; }

    /// <summary>
    /// The first moment at this daemon's phase more than half an interval after <paramref name="now"/>: one interval after
    /// a fetch made on schedule, and never almost at once after one made off it (by <c>sync</c>, or a retry).
    /// </summary>
    public DateTimeOffset NextAfterSuccess(DateTimeOffset now)
    {
        var interval = _options.FetchInterval.Ticks;
        if (interval <= 0)
        {
            return now;
        }

        var earliest = now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks + (interval / 2) + 1;
        var slot = ((earliest - Phase.Ticks + interval - 1) / interval * interval) + Phase.Ticks;
        return new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + slot, TimeSpan.Zero);
    }

    /// <summary>
    /// The delay before the next attempt after <paramref name="failures"/> consecutive failures: <see cref="GitOptions.FetchRetryDelay"/>
    /// doubled for each failure after the first, capped at <see cref="GitOptions.FetchRetryMaxDelay"/>, then drawn between
    /// half and all of that ("equal jitter": the backoff still grows, and hosts failing together retry apart).
    /// </summary>
    public TimeSpan RetryDelay(int failures)
    {
        var max = _options.FetchRetryMaxDelay.TotalMilliseconds;
        var exponential = _options.FetchRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(failures - 1, 0, 30));
        var capped = Math.Min(exponential, max);
        return TimeSpan.FromMilliseconds((capped / 2) + (_random() * capped / 2));
    }

    /// <summary>A stable offset in [0, interval): FNV-1a of the identity (string hashes are randomized per process).</summary>
    internal static TimeSpan PhaseOf(string identity, TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var hash = 14695981039346656037UL;
        foreach (var c in identity)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return TimeSpan.FromTicks((long)(hash % (ulong)interval.Ticks));
    }
}
