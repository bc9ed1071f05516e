using Microsoft.Extensions.Logging;

namespace GitProc.Supervision;

/// <summary>The supervisor's log messages (event ids 10xx).</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "Started {Service} (PID {Pid})")]
    public static partial void ServiceStarted(this ILogger logger, string service, int pid);

    [LoggerMessage(1001, LogLevel.Information, "Stopped {Service} (PID {Pid}): {Exit}")]
    public static partial void ServiceStopped(this ILogger logger, string service, int pid, string exit);

    [LoggerMessage(1002, LogLevel.Warning, "{Service} ended: {Exit}; restart: {Restart}")]
    public static partial void ServiceExited(this ILogger logger, string service, string exit, bool restart);

    [LoggerMessage(1012, LogLevel.Information, "{Service} ended: {Exit}; restart: {Restart}")]
    public static partial void ServiceEnded(this ILogger logger, string service, string exit, bool restart);

    [LoggerMessage(1003, LogLevel.Information, "Restarting {Service} (restart {RestartCount})")]
    public static partial void ServiceRestarting(this ILogger logger, string service, int restartCount);

    [LoggerMessage(1004, LogLevel.Error, "Cannot start {Service}: {Reason}")]
    public static partial void ServiceStartFailed(this ILogger logger, string service, string reason);

    [LoggerMessage(1005, LogLevel.Error, "{Service} failed: {Reason}")]
    public static partial void ServiceFailed(this ILogger logger, string service, string reason);

    [LoggerMessage(1006, LogLevel.Error, "Supervising {Service} failed unexpectedly")]
    public static partial void SuperviseLoopFailed(this ILogger logger, string service, Exception exception);

    [LoggerMessage(1007, LogLevel.Warning, "A process of {Service} from a previous run is still alive (PID {Pid}); stopping it before starting the service again")]
    public static partial void StoppingLeftover(this ILogger logger, string service, int pid);

    [LoggerMessage(1008, LogLevel.Error, "Saving the state failed")]
    public static partial void StateSaveFailed(this ILogger logger, Exception exception);

    [LoggerMessage(1010, LogLevel.Warning, "{Service} is unhealthy; restarting it")]
    public static partial void ServiceUnhealthy(this ILogger logger, string service);

    [LoggerMessage(1011, LogLevel.Warning, "{Service} did not become healthy in time; its dependents are started without waiting")]
    public static partial void NotHealthyInTime(this ILogger logger, string service);

    [LoggerMessage(1013, LogLevel.Information, "Took over {Service} (PID {Pid}) from the previous daemon: it keeps running")]
    public static partial void ServiceAdopted(this ILogger logger, string service, int pid);

    [LoggerMessage(1014, LogLevel.Warning, "Stopped what ran unmanaged in the cgroup of {Service} ({Count} process(es): {Pids}) and removed the cgroup")]
    public static partial void LeftoverCgroupSwept(this ILogger logger, string service, int count, string pids);

    [LoggerMessage(1053, LogLevel.Debug, "Removed the empty cgroup of {Service} that an earlier daemon left")]
    public static partial void EmptyCgroupRemoved(this ILogger logger, string service);

    [LoggerMessage(1015, LogLevel.Error, "Sweeping the cgroups left by a previous daemon failed: {Reason}")]
    public static partial void SweepFailed(this ILogger logger, string reason);

    [LoggerMessage(1016, LogLevel.Warning, "The state's copy of {FileName} no longer parses ({Reason}); its service is not taken over")]
    public static partial void SnapshotUnitInvalid(this ILogger logger, string fileName, string reason);

    [LoggerMessage(1017, LogLevel.Information, "Handed over to the re-executed daemon: {Count} service(s) keep running")]
    public static partial void HandedOver(this ILogger logger, int count);

    [LoggerMessage(1009, LogLevel.Information, "Applied {Commit}: {Started} started, {Restarted} restarted, {Stopped} stopped")]
    public static partial void Applied(this ILogger logger, string commit, int started, int restarted, int stopped);

    [LoggerMessage(1040, LogLevel.Warning, "{Service} waits for the daemon's resources: {Reason}")]
    public static partial void ServiceWaitingForResources(this ILogger logger, string service, string reason);

    [LoggerMessage(1050, LogLevel.Warning, "{Service}: {Reason}")]
    public static partial void ServiceOomKilled(this ILogger logger, string service, string reason);

    [LoggerMessage(1051, LogLevel.Warning, "{Service}: ExecStopPost command '{Command}' failed: {Reason}; carrying on")]
    public static partial void StopPostFailed(this ILogger logger, string service, string command, string reason);

    [LoggerMessage(1052, LogLevel.Information, "Reloaded {Service}: {How}")]
    public static partial void ServiceReloaded(this ILogger logger, string service, string how);
}
