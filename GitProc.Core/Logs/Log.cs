using Microsoft.Extensions.Logging;

namespace GitProc.Logs;

/// <summary>The log store's own diagnostics (event ids 4xx).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 401, Level = LogLevel.Error,
        Message = "Cannot write the log of service {Service} to {Path}; its output is dropped until writing works again.")]
    public static partial void WriteFailed(ILogger logger, string service, string path, Exception exception);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information,
        Message = "Writing the log of service {Service} to {Path} works again.")]
    public static partial void WriteRecovered(ILogger logger, string service, string path);

    [LoggerMessage(EventId = 403, Level = LogLevel.Debug,
        Message = "Rotated the log of service {Service} ({Path}).")]
    public static partial void Rotated(ILogger logger, string service, string path);

    [LoggerMessage(EventId = 404, Level = LogLevel.Warning,
        Message = "Cannot rotate the log of service {Service} ({Path}); it keeps growing in place.")]
    public static partial void RotateFailed(ILogger logger, string service, string path, Exception exception);

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning,
        Message = "A follower of service {Service}'s log fell behind by more than one rotated file; lines in between were skipped.")]
    public static partial void FollowerSkipped(ILogger logger, string service);

    [LoggerMessage(EventId = 406, Level = LogLevel.Information,
        Message = "Service {Service} wrote more log lines than its limit allows; {Count} lines were dropped: {Reason}.")]
    public static partial void RateLimited(ILogger logger, string service, long count, string reason);
}
