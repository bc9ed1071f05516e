using System.Globalization;
using GitProc.Processes;
using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>
/// <c>ExecStopPost=</c>: commands run once the service has stopped, whatever the reason (an operator's stop, a crash, a
/// failed start), with <c>$SERVICE_RESULT</c>, <c>$EXIT_CODE</c> and <c>$EXIT_STATUS</c> set as systemd.exec(5) describes.
/// Each is bounded by <c>TimeoutStopSec=</c>; a failure is logged and the next command still runs: cleaning up after a
/// service never fails it.
/// </summary>
internal static class StopPost
{
    public static async Task RunAsync(SupervisorContext context, UnitFile unit, ProcessExit exit, Func<UnitCommand, ProcessLaunch> launch)
    {
        if (unit.ExecStopPost.Count == 0)
        {
            return;
        }

        var environment = Environment(exit);
        foreach (var command in unit.ExecStopPost)
        {
            string? failure;
            try
            {
                var ended = await context.Processes.RunAsync(launch(command).WithEnvironment(environment), unit.TimeoutStop).ConfigureAwait(false);
                failure = ended.IsSuccess || (command.IgnoreFailure && !ended.TimedOut) ? null : ended.ToString();
            }
            catch (ProcessStartException ex)
            {
                failure = command.IgnoreFailure ? null : ex.Message;
            }

            if (failure is not null)
            {
                context.Logger.StopPostFailed(unit.Name, command.CommandLine, failure);
            }
        }
    }

    /// <summary>The variables systemd gives ExecStopPost= commands; exit code and status only when known.</summary>
    internal static Dictionary<string, string> Environment(ProcessExit exit)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["SERVICE_RESULT"] = Result(exit) };
        if (exit.ExitCode is { } code)
        {
            environment["EXIT_CODE"] = "exited";
            environment["EXIT_STATUS"] = code.ToString(CultureInfo.InvariantCulture);
        }
        else if (exit.Signal is { } signal)
        {
            environment["EXIT_CODE"] = "killed";
            environment["EXIT_STATUS"] = SignalNames.ToName(signal);
        }

        return environment;
    }

    /// <summary>systemd's service result words: <c>success</c>, <c>exit-code</c>, <c>signal</c>, <c>timeout</c>, <c>oom-kill</c>.</summary>
    internal static string Result(ProcessExit exit) =>
        exit.OomKilled ? "oom-kill"
        : exit.TimedOut ? "timeout"
        : exit.IsClean || !exit.IsKnown ? "success"
        : exit.ExitCode is not null ? "exit-code"
        : "signal";
}
