using Microsoft.Extensions.Logging;

namespace GitProc.Http;

/// <summary>Log messages of the HTTP endpoints, metrics and the status page (event ids 16xx); <c>What</c> says which.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "Serving {What} on {Url}")]
    public static partial void Serving(ILogger logger, string what, string url);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Error, Message = "Cannot serve {What} on {EndPoint}: {Reason}; services are not affected, and the daemon tries again every {RetrySeconds} s")]
    public static partial void ListenFailed(ILogger logger, string what, string endPoint, string reason, int retrySeconds);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "Accepting a connection for {What} failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string what, string reason);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Error, Message = "Answering a request for {What} ({Path}) failed")]
    public static partial void AnswerFailed(ILogger logger, string what, string path, Exception exception);
}
