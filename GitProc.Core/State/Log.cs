using Microsoft.Extensions.Logging;

namespace GitProc.State;

/// <summary>State's log messages (event ids 5xx).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "The state file {Path} could not be read ({Error}); it was moved aside to {CorruptPath} and GitProc starts from an empty state")]
    public static partial void StateFileCorrupt(ILogger logger, string path, string error, string corruptPath);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Removed {Path}, left over from an interrupted state write")]
    public static partial void TemporaryFileRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 502, Level = LogLevel.Debug, Message = "Loaded the state file {Path}: {Count} service(s), applied commit {Commit}")]
    public static partial void StateLoaded(ILogger logger, string path, int count, string? commit);

    [LoggerMessage(EventId = 503, Level = LogLevel.Debug, Message = "No state file at {Path}; starting from an empty state")]
    public static partial void StateFileMissing(ILogger logger, string path);

    [LoggerMessage(EventId = 504, Level = LogLevel.Debug, Message = "Saved the state file {Path}: {Count} service(s), applied commit {Commit}")]
    public static partial void StateSaved(ILogger logger, string path, int count, string? commit);

    [LoggerMessage(EventId = 505, Level = LogLevel.Debug, Message = "Could not fsync the directory {Directory} (errno {Errno}); the state file was written and renamed, but the rename may not survive a power loss")]
    public static partial void DirectorySyncFailed(ILogger logger, string directory, int errno);

    [LoggerMessage(EventId = 506, Level = LogLevel.Warning, Message = "Could not remove {Path}, left over from an interrupted state write")]
    public static partial void TemporaryFileRemovalFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 507, Level = LogLevel.Debug, Message = "Saved service {Service} ({Status}) in the state file {Path}")]
    public static partial void ServiceSaved(ILogger logger, string path, string service, ServiceStatus status);

    [LoggerMessage(EventId = 510, Level = LogLevel.Warning, Message = "The file system of {LockPath} does not support flock ({Error}); nothing stops a second daemon from using the same state")]
    public static partial void StateLockUnsupported(ILogger logger, string lockPath, string error);
}
