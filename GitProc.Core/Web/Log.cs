using Microsoft.Extensions.Logging;

namespace GitProc.Web;

/// <summary>Log messages of the status page (event ids 17xx); binding and serving are logged by <c>GitProc.Http</c> (16xx).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1800, Level = LogLevel.Warning, Message = "The status page listens on {EndPoint}, which is not a loopback address: it has no authentication, so whoever reaches it reads every service's status and log")]
    public static partial void NotLoopback(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 1801, Level = LogLevel.Warning, Message = "Refused a status page request for host '{Host}': on a loopback address only an IP address or localhost is answered (a web page elsewhere could otherwise read it through DNS rebinding)")]
    public static partial void ForeignHost(ILogger logger, string host);
}
