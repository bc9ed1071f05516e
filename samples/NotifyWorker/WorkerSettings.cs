using System.Globalization;

namespace NotifyWorker;

/// <summary>The worker's command line.</summary>
/// <param name="ReadyDelay">How long start-up takes: READY=1 is sent after it.</param>
/// <param name="StopPingingFile">While this file exists, the worker does not ping the watchdog.</param>
internal sealed record WorkerSettings(TimeSpan ReadyDelay, string? StopPingingFile)
{
    public static WorkerSettings Parse(string[] args)
    {
        var delay = TimeSpan.FromSeconds(1);
        string? stopFile = null;
        for (var i = 0; i + 1 < args.Length; i++)
        {
            switch (args[i])
            {
                case "--ready-delay":
                    delay = TimeSpan.FromMilliseconds(int.Parse(args[++i], CultureInfo.InvariantCulture));
                    break;
                case "--stop-pinging-file":
                    stopFile = args[++i];
                    break;
            }
        }

        return new WorkerSettings(delay, stopFile);
    }
}
