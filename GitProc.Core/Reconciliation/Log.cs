using Microsoft.Extensions.Logging;

namespace GitProc.Reconciliation;

/// <summary>The reconciler's log messages (event ids 12xx).</summary>
internal static partial class Log
{
    [LoggerMessage(1200, LogLevel.Error, "Rejected commit {Commit}; the last good commit keeps running: {Reason}")]
    public static partial void CommitRejected(this ILogger logger, string commit, string reason);

    [LoggerMessage(1201, LogLevel.Information, "Rolled back to {Target} with the new commit {Commit}")]
    public static partial void RolledBack(this ILogger logger, string target, string commit);

    [LoggerMessage(1202, LogLevel.Error, "Applying the last good commit {Commit} failed: {Reason}")]
    public static partial void LastGoodFailed(this ILogger logger, string commit, string reason);

    [LoggerMessage(1203, LogLevel.Warning, "Watching the branch failed: {Reason}")]
    public static partial void WatchFailed(this ILogger logger, string reason);

    [LoggerMessage(1204, LogLevel.Warning, "Fetching the remote failed ({Failures} in a row; next attempt at {NextAttempt:u}): {Reason}")]
    public static partial void FetchFailed(this ILogger logger, int failures, DateTimeOffset nextAttempt, string reason);

    [LoggerMessage(1206, LogLevel.Error, "The repository cannot be read ({Reason}); running the {Count} unit(s) of {Commit} as the state recorded them until it can")]
    public static partial void RunningFromState(this ILogger logger, string commit, int count, string reason);

    [LoggerMessage(1207, LogLevel.Information, "Commit {Commit} verified: every service it started or restarted runs")]
    public static partial void CommitVerified(this ILogger logger, string commit);

    [LoggerMessage(1208, LogLevel.Error, "Commit {Commit} failed verification and was rolled back to {Restored}: {Reason}")]
    public static partial void CommitRolledBack(this ILogger logger, string commit, string restored, string reason);

    [LoggerMessage(1209, LogLevel.Error, "Commit {Commit} failed verification and stays applied: {Reason}")]
    public static partial void CommitFailedVerification(this ILogger logger, string commit, string reason);

    [LoggerMessage(1210, LogLevel.Information, "Commit {Commit} is {Signature}")]
    public static partial void CommitSignatureTrusted(this ILogger logger, string commit, string signature);

    [LoggerMessage(1205, LogLevel.Warning, "Commit {Commit}: {Warning}")]
    public static partial void UnitWarning(this ILogger logger, string commit, string warning);
}
