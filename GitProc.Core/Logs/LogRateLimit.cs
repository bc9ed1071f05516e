using System.Globalization;
using GitProc.UnitFiles;

namespace GitProc.Logs;

/// <summary>
/// A service's log rate limit, journald's rule with systemd's keys (<c>LogRateLimitBurst=</c> per
/// <c>LogRateLimitIntervalSec=</c>): within each interval at most <see cref="Burst"/> lines are stored; the rest are
/// dropped, and when the interval ends (at the first output after it, or when the service's last writer closes) one
/// marker line says how many. An interval starts with the first output after the previous one ended. Either value 0
/// means no limit.
/// </summary>
public sealed record LogRateLimit
{
    /// <summary>Creates a limit of <paramref name="burst"/> lines per <paramref name="interval"/>.</summary>
    /// <param name="burst">Lines stored per interval; 0 for no limit.</param>
    /// <param name="interval">The interval; <see cref="TimeSpan.Zero"/> for no limit.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative.</exception>
    public LogRateLimit(int burst, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(burst);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        Burst = burst;
        Interval = interval;
    }

    /// <summary>Lines stored per interval; 0 means no limit.</summary>
    public int Burst { get; }

    /// <summary>The interval; <see cref="TimeSpan.Zero"/> means no limit.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Both values are set, so lines can be dropped.</summary>
    public bool IsEnabled => Burst > 0 && Interval > TimeSpan.Zero;

    /// <summary>The reason a marker line gives, naming the keys a user would change.</summary>
    internal string DropReason =>
        string.Create(CultureInfo.InvariantCulture, $"rate limit (LogRateLimitBurst={Burst} per LogRateLimitIntervalSec={SystemdTimeSpan.Format(Interval)})");
}
