using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EmbeddedGitOps;

/// <summary>Logs the <see cref="ServiceReport"/> once a minute, and whenever readiness changes in between.</summary>
internal sealed partial class ReadinessLog(ServiceReport report, TimeProvider time, ILogger<ReadinessLog> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private const int EveryNth = 12;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        bool? wasReady = null;
        var tick = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var result = await report.CreateAsync(stoppingToken);
            if (result.IsReady != wasReady || tick++ % EveryNth == 0)
            {
                var running = result.Services.Count(s => s.ProcessAlive);
                if (result.IsReady)
                {
                    LogReady(logger, running, result.Services.Count, result.ResourceLimits);
                }
                else
                {
                    LogNotReady(logger, string.Join("; ", result.Problems));
                }
            }

            wasReady = result.IsReady;
        }
    }

    [LoggerMessage(10, LogLevel.Information, "Ready: {Running} of {Count} services running; resource limits: {Limits}")]
    private static partial void LogReady(ILogger logger, int running, int count, string limits);

    [LoggerMessage(11, LogLevel.Warning, "Not ready: {Problems}")]
    private static partial void LogNotReady(ILogger logger, string problems);
}
