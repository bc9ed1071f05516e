using Microsoft.Extensions.Logging;

namespace GitProc.Metrics;

/// <summary>Log messages of the metrics endpoint (event ids 16xx).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "Serving metrics on http://{EndPoint}/metrics")]
    public static partial void Serving(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Error, Message = "Cannot serve metrics on {EndPoint}: {Reason}; services are not affected, and the daemon tries again every {RetrySeconds} s")]
    public static partial void ListenFailed(ILogger logger, string endPoint, string reason, int retrySeconds);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "Accepting a metrics connection failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Error, Message = "Collecting the metrics for a scrape failed")]
    public static partial void ScrapeFailed(ILogger logger, Exception exception);
}
