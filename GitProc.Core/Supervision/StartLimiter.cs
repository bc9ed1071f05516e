namespace GitProc.Supervision;

/// <summary>
/// <c>StartLimitBurst</c>/<c>StartLimitIntervalSec</c>: more than Burst starts within Interval is a crash loop,
/// after which the service is failed until an operator starts it or its unit changes.
/// </summary>
internal sealed class StartLimiter
{
    private readonly Queue<DateTimeOffset> _starts = new();

    /// <summary>Records a start at <paramref name="now"/> unless it would exceed the limit.</summary>
    /// <returns><see langword="false"/> when the limit is hit (the start must not happen).</returns>
    public bool TryAcquire(int burst, TimeSpan interval, DateTimeOffset now)
    {
        if (interval <= TimeSpan.Zero || burst <= 0)
        {
            return true;
        }

        while (_starts.Count > 0 && now - _starts.Peek() >= interval)
        {
            _starts.Dequeue();
        }

        if (_starts.Count >= burst)
        {
            return false;
        }

        _starts.Enqueue(now);
        return true;
    }

    /// <summary>Forgets past starts (an operator's start, a changed unit).</summary>
    public void Reset() => _starts.Clear();
}
