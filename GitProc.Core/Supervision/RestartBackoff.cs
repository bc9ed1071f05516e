using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>
/// The delay before the next automatic restart, as systemd ≥ 254 computes it: <c>RestartSec</c>, growing
/// exponentially over <c>RestartSteps</c> restarts up to <c>RestartMaxDelaySec</c>
/// (r_i = r_0 · (r_max / r_0)^(i / steps)).
/// </summary>
internal static class RestartBackoff
{
    private static readonly TimeSpan FirstShortageDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxShortageDelay = TimeSpan.FromSeconds(30);

    /// <summary>The delay before restart number <paramref name="restartNumber"/> (1 for the first).</summary>
    public static TimeSpan Delay(UnitFile unit, int restartNumber)
    {
        var first = unit.RestartSec;
        if (unit.RestartSteps <= 0 || unit.RestartMaxDelay is not { } max || first >= max)
        {
            return first;
        }

        if (restartNumber >= unit.RestartSteps)
        {
            return max;
        }

        // systemd starts the curve at 1 ms when RestartSec=0, or 0^x would keep it at zero forever.
        var r0 = Math.Max(first.TotalMilliseconds, 1);
        var ratio = max.TotalMilliseconds / r0;
        var step = Math.Max(restartNumber, 0);
        return TimeSpan.FromMilliseconds(r0 * Math.Pow(ratio, (double)step / unit.RestartSteps));
    }

    /// <summary>
    /// The delay before retry number <paramref name="retry"/> (1 for the first) of a start the daemon could not make
    /// for want of descriptors or memory: 1 s, doubling up to 30 s, whatever the unit's restart settings say.
    /// </summary>
    public static TimeSpan ShortageDelay(int retry)
    {
        var doublings = Math.Clamp(retry - 1, 0, 5);
        var delay = FirstShortageDelay * (1 << doublings);
        return delay < MaxShortageDelay ? delay : MaxShortageDelay;
    }
}
