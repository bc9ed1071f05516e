using GitProc.Processes;
using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>systemd's table of which endings each <c>Restart=</c> value restarts on (systemd.service(5)).</summary>
internal static class RestartDecision
{
    /// <summary>Whether a process that ended with <paramref name="exit"/> is restarted under <paramref name="policy"/>.</summary>
    /// <param name="policy">The unit's <c>Restart=</c>.</param>
    /// <param name="exit">How the process ended; an exit code the command's <c>-</c> prefix forgives should be passed as 0.</param>
    public static bool ShouldRestart(RestartPolicy policy, ProcessExit exit)
    {
        if (exit.Watchdog)
        {
            // systemd's table: a watchdog timeout restarts under on-failure, on-abnormal, on-watchdog and always only.
            return policy is RestartPolicy.Always or RestartPolicy.OnFailure or RestartPolicy.OnAbnormal or RestartPolicy.OnWatchdog;
        }

        var clean = exit.IsClean;
        // systemd's result oom-kill is neither exit-code nor signal: on-abnormal restarts on it, on-abort does not.
        var uncleanSignal = !exit.TimedOut && !exit.OomKilled && exit.Signal is not null && !clean;
        return policy switch
        {
            RestartPolicy.Always => true,
            RestartPolicy.OnSuccess => clean,
            RestartPolicy.OnFailure => !clean,
            RestartPolicy.OnAbnormal => uncleanSignal || exit.TimedOut || exit.OomKilled,
            RestartPolicy.OnAbort => uncleanSignal,
            _ => false,
        };
    }
}
