using Microsoft.Extensions.Logging;

namespace GitProc.ResourceControl;

/// <summary>ResourceControl's log messages (event ids 7xx).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Resource limits are enforced with {Status}")]
    public static partial void Enforced(ILogger logger, ResourceControlStatus status);

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Resource limits are not enforced: {Reason}")]
    public static partial void NotEnforced(ILogger logger, string reason);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Service {Service} asks for limits ({Limits}) that are not enforced: {Reason}")]
    public static partial void ServiceLimitsNotEnforced(ILogger logger, string service, ResourceLimits limits, string reason);

    [LoggerMessage(EventId = 703, Level = LogLevel.Debug, Message = "Created the cgroup of service {Service} ({Directories}) with limits {Limits}")]
    public static partial void Created(ILogger logger, string service, string directories, ResourceLimits limits);

    [LoggerMessage(EventId = 704, Level = LogLevel.Warning, Message = "The cgroup of service {Service} still held {Count} process(es) from an earlier run; they were killed")]
    public static partial void LeftoversKilled(ILogger logger, string service, int count);

    [LoggerMessage(EventId = 705, Level = LogLevel.Debug, Message = "Removed the cgroup of service {Service}")]
    public static partial void Removed(ILogger logger, string service);

    [LoggerMessage(EventId = 706, Level = LogLevel.Debug, Message = "Applied limits {Limits} to the cgroup of service {Service}")]
    public static partial void LimitsApplied(ILogger logger, string service, ResourceLimits limits);

    [LoggerMessage(EventId = 707, Level = LogLevel.Warning, Message = "Cannot send signal {Signal} to process {Pid} of service {Service}: {Error}")]
    public static partial void SignalFailed(ILogger logger, int signal, int pid, string service, string error);

    [LoggerMessage(EventId = 708, Level = LogLevel.Debug, Message = "Added process {Pid} to the cgroup of service {Service}")]
    public static partial void ProcessAdded(ILogger logger, int pid, string service);

    [LoggerMessage(EventId = 720, Level = LogLevel.Warning, Message = "The cgroup root {Root} cannot be locked ({Error}); {StandIn} is locked instead")]
    public static partial void CgroupRootLockStandIn(ILogger logger, string root, string standIn, string error);
}
