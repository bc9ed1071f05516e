namespace GitProc.Supervision;

/// <summary>
/// <c>StartLimitBurst</c>/<c>StartLimitIntervalSec</c>: more than Burst starts within Interval is a crash loop,
/// after which the service is failed until an operator starts it or its unit changes. A start that never happened
/// because the daemon ran short of resources is taken back (<see cref="Forget"/>): it is not the service's crash loop.
/// </summary>
internal sealed class StartLimiter
{
    // Oldest first.
    private readonly LinkedList<DateTimeOffset> _starts = new();

    /// <summary>Records a start at <paramref name="now"/> unless it would exceed the limit.</summary>
    /// <returns><see langword="false"/> when the limit is hit (the start must not happen).</returns>
    public bool TryAcquire(int burst, TimeSpan interval, DateTimeOffset now)
    {
        if (interval <= TimeSpan.Zero || burst <= 0)
        {
            return true;
        }

        while (_starts.First is { } oldest && now - oldest.Value >= interval)
        {
            _starts.RemoveFirst();
        }

        if (_starts.Count >= burst)
        {
            return false;
        }

        _starts.AddLast(now);
        return true;
    }

    /// <summary>Takes back the most recent start: it did not happen (the daemon was short of resources).</summary>
    public void Forget()
    {
        if (_starts.Count > 0)
        {
            _starts.RemoveLast();
        }
    }

    /// <summary>Forgets past starts (an operator's start, a changed unit).</summary>
    public void Reset() => _starts.Clear();
}
