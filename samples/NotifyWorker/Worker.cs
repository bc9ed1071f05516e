using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace NotifyWorker;

/// <summary>
/// Takes <see cref="WorkerSettings.ReadyDelay"/> to start (the host, and with it UseSystemd's READY=1, waits for
/// <see cref="StartAsync"/>), then works: it reports what it does with STATUS= and, when the supervisor set
/// WATCHDOG_USEC, pings the watchdog at half that interval, as sd_watchdog_enabled(3) advises. UseSystemd() sends
/// READY=1 and STOPPING=1 but no watchdog pings, so they are sent here.
/// </summary>
internal sealed partial class Worker(WorkerSettings settings, ISystemdNotifier notifier, ILogger<Worker> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.StopPingingFile is { } file)
        {
            File.Delete(file);
        }

        Notify("STATUS=Starting up");
        await Task.Delay(settings.ReadyDelay, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = WatchdogInterval();
        var pings = 0L;
        using var timer = new PeriodicTimer(interval is { } watchdog ? watchdog / 2 : TimeSpan.FromSeconds(1));
        do
        {
            if (settings.StopPingingFile is { } file && File.Exists(file))
            {
                Notify("STATUS=Hung (not pinging the watchdog)");
                continue;
            }

            if (interval is not null)
            {
                pings++;
                Notify("WATCHDOG=1");
            }

            Notify(string.Create(CultureInfo.InvariantCulture, $"STATUS=Working: {pings} watchdog pings"));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private void Notify(string state)
    {
        if (notifier.IsEnabled)
        {
            notifier.Notify(new ServiceState(state));
        }

        LogNotified(state);
    }

    /// <summary>WATCHDOG_USEC when it is meant for this process (WATCHDOG_PID unset or ours).</summary>
    private static TimeSpan? WatchdogInterval()
    {
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (pid is { Length: > 0 } && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }

        return long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0
            ? TimeSpan.FromMicroseconds(usec)
            : null;
    }

    [LoggerMessage(1, LogLevel.Information, "sd_notify: {State}")]
    private partial void LogNotified(string state);
}
