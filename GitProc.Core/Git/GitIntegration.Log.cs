using Microsoft.Extensions.Logging;

namespace GitProc.Git;

internal sealed partial class GitIntegration
{
    internal static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Created a Git repository at {Path} on branch {Branch}")]
        public static partial void RepositoryCreated(ILogger logger, string path, string branch);

        [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Rolled back branch {Branch} to the tree of {Target}: new commit {Commit}")]
        public static partial void RolledBack(ILogger logger, string branch, string target, string commit);

        [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "The working tree of {Path} has uncommitted changes; branch {Branch} moved to {Commit} but the working tree and index were left as they are")]
        public static partial void WorkTreeLeftAlone(ILogger logger, string path, string branch, string commit);

        [LoggerMessage(EventId = 603, Level = LogLevel.Information, Message = "Fast-forwarded branch {Branch} from {From} to {To} fetched from {Url}")]
        public static partial void FastForwarded(ILogger logger, string branch, string from, string to, string url);

        [LoggerMessage(EventId = 604, Level = LogLevel.Information, Message = "Branch {Branch} ({Local}) is ahead of {Url} ({Remote}); left as it is")]
        public static partial void LocalAhead(ILogger logger, string branch, string local, string url, string remote);

        [LoggerMessage(EventId = 605, Level = LogLevel.Error, Message = "A callback watching branch {Branch} of {Path} failed")]
        public static partial void WatchCallbackFailed(ILogger logger, Exception exception, string branch, string path);

        [LoggerMessage(EventId = 607, Level = LogLevel.Warning, Message = "The remote {Url} rewrote its history (force-push): branch {Branch} follows it from {From} to {To}")]
        public static partial void ForcePushed(ILogger logger, string branch, string from, string to, string url);

        [LoggerMessage(EventId = 606, Level = LogLevel.Warning, Message = "Watching the references of {Path} reported an error; relying on polling until the next event")]
        public static partial void WatchError(ILogger logger, Exception exception, string path);
    }
}
