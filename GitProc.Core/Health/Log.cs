using Microsoft.Extensions.Logging;

namespace GitProc.Health;

/// <summary>Log messages of the health monitor (event ids 8xx).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 800, Level = LogLevel.Debug, Message = "Watching the health of {Service} at {Url} every {Interval}")]
    public static partial void Watching(ILogger logger, string service, Uri url, TimeSpan interval);

    [LoggerMessage(EventId = 801, Level = LogLevel.Debug, Message = "Stopped watching the health of {Service}")]
    public static partial void Unwatched(ILogger logger, string service);

    [LoggerMessage(EventId = 802, Level = LogLevel.Debug, Message = "Health check of {Service} failed ({Failures}/{Retries} counted): {Error}")]
    public static partial void CheckFailed(ILogger logger, string service, int failures, int retries, string error);

    [LoggerMessage(EventId = 803, Level = LogLevel.Information, Message = "{Service} is healthy")]
    public static partial void Healthy(ILogger logger, string service);

    [LoggerMessage(EventId = 804, Level = LogLevel.Warning, Message = "{Service} is unhealthy after {Failures} consecutive failed health checks; last error: {Error}")]
    public static partial void Unhealthy(ILogger logger, string service, int failures, string? error);

    [LoggerMessage(EventId = 805, Level = LogLevel.Error, Message = "A HealthChanged handler failed for {Service}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string service);

    [LoggerMessage(EventId = 806, Level = LogLevel.Error, Message = "The health check loop of {Service} stopped unexpectedly; its health is no longer checked")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string service);

    [LoggerMessage(EventId = 820, Level = LogLevel.Warning, Message = "Health check of {Service} skipped, not counted: {Error}")]
    public static partial void CheckSkipped(ILogger logger, string service, string error);
}
