using Microsoft.Extensions.Logging;

namespace GitProc.Readiness;

/// <summary>Readiness notification's log messages (event ids 17xx).</summary>
internal static partial class Log
{
    [LoggerMessage(1700, LogLevel.Warning, "Refused a notification to {Service} from PID {Pid} (uid {Uid}): {Reason}; {Suppressed} more refused since the last report")]
    public static partial void NotificationRefused(ILogger logger, string service, int pid, uint uid, string reason, long suppressed);

    [LoggerMessage(1701, LogLevel.Debug, "{Service} notified from PID {Pid}: {Text}")]
    public static partial void Notified(ILogger logger, string service, int pid, string text);

    [LoggerMessage(1702, LogLevel.Warning, "Cannot read the notification socket of {Service}: {Reason}")]
    public static partial void ReceiveFailed(ILogger logger, string service, string reason);

    [LoggerMessage(1703, LogLevel.Warning, "Cannot remove the stale notification socket {Path}: {Reason}")]
    public static partial void SweepFailed(ILogger logger, string path, string reason);

    [LoggerMessage(1704, LogLevel.Information, "{Service} is ready (READY=1 from PID {Pid})")]
    public static partial void Ready(ILogger logger, string service, int pid);

    [LoggerMessage(1705, LogLevel.Warning, "{Service} missed its watchdog: no WATCHDOG=1 within {Interval}; killing it with SIGABRT")]
    public static partial void WatchdogMissed(ILogger logger, string service, TimeSpan interval);

    [LoggerMessage(1706, LogLevel.Information, "{Service}: MAINPID={Pid} accepted; its main process is now {Pid}")]
    public static partial void MainPidChanged(ILogger logger, string service, int pid);

    [LoggerMessage(1707, LogLevel.Warning, "{Service}: MAINPID={Pid} ignored: {Reason}")]
    public static partial void MainPidRefused(ILogger logger, string service, int pid, string reason);

    [LoggerMessage(1708, LogLevel.Warning, "{Service}: NotifyAccess={Access} is checked by process tree (session of the main process) because the service has no cgroup")]
    public static partial void NoCgroupForAccess(ILogger logger, string service, string access);

    [LoggerMessage(1709, LogLevel.Information, "{Service}: the daemon's main process is PID {Pid} ({Source})")]
    public static partial void ForkingMainPid(ILogger logger, string service, int pid, string source);

    [LoggerMessage(1710, LogLevel.Information, "{Service} has no main process: {Reason}")]
    public static partial void ForkingNoMainPid(ILogger logger, string service, string reason);
}
