using Microsoft.Extensions.Logging;

namespace GitProc.Delivery;

/// <summary>Delivery's log messages (event ids 13xx).</summary>
internal static partial class Log
{
    [LoggerMessage(1300, LogLevel.Warning, "The delivery history {Path} could not be read ({Error}); it was moved aside to {CorruptPath} and starts empty")]
    public static partial void HistoryCorrupt(ILogger logger, string path, string error, string corruptPath);

    [LoggerMessage(1301, LogLevel.Warning, "The delivery history could not be saved: {Reason}")]
    public static partial void HistorySaveFailed(ILogger logger, string reason);
}
