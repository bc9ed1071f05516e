using Microsoft.Extensions.Logging;

namespace GitProc.Hosting;

/// <summary>The daemon's log messages (event ids 11xx).</summary>
internal static partial class Log
{
    [LoggerMessage(1100, LogLevel.Information, "Recovered the previous run's state (applied commit: {Commit})")]
    public static partial void Recovered(ILogger logger, string commit);

    [LoggerMessage(1101, LogLevel.Information, "Applied commit {Commit} ({Reloaded} services reloaded)")]
    public static partial void InitialSync(ILogger logger, string commit, int reloaded);

    [LoggerMessage(1102, LogLevel.Error, "The watched branch could not be applied at start-up ({Reason}); {Running} service(s) of what was applied before run meanwhile")]
    public static partial void InitialSyncFailed(ILogger logger, string reason, int running);

    [LoggerMessage(1103, LogLevel.Information, "Stopping: closing the socket, then stopping every service")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(1104, LogLevel.Information, "Stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(1105, LogLevel.Information, "No commit on branch {Branch} yet in {Repository}: waiting for the first commit")]
    public static partial void NoCommitYet(ILogger logger, string branch, string repository);

    [LoggerMessage(1112, LogLevel.Debug, "Loaded {Count} referenced assemblies up front, so a later shortage of descriptors cannot fail a load")]
    public static partial void AssembliesPreloaded(ILogger logger, int count);

    [LoggerMessage(1116, LogLevel.Error, "Stopped, but not cleanly: {Problems}")]
    public static partial void StoppedUnclean(ILogger logger, string problems);
}
