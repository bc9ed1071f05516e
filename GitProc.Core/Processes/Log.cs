using Microsoft.Extensions.Logging;

namespace GitProc.Processes;

/// <summary>The process manager's log messages (event ids 3xx).</summary>
internal static partial class Log
{
    [LoggerMessage(300, LogLevel.Debug, "Started {Service}: pid {Pid}, {Executable}")]
    public static partial void Started(ILogger logger, string service, int pid, string executable);

    [LoggerMessage(301, LogLevel.Debug, "{Service} (pid {Pid}) {Exit}")]
    public static partial void Exited(ILogger logger, string service, int pid, ProcessExit exit);

    [LoggerMessage(302, LogLevel.Warning, "{Service} (pid {Pid}) did not stop within {Timeout} of signal {Signal}; sending SIGKILL to what is left")]
    public static partial void StopEscalated(ILogger logger, string service, int pid, int signal, TimeSpan timeout);

    [LoggerMessage(303, LogLevel.Error, "Processes of {Service} (pid {Pid}) survive SIGKILL (stuck in the kernel?): {Pids}")]
    public static partial void StopIncomplete(ILogger logger, string service, int pid, string pids);

    [LoggerMessage(304, LogLevel.Warning, "Cannot store the output of {Service}; its further output is discarded")]
    public static partial void OutputWriteFailed(ILogger logger, string service, Exception exception);

    [LoggerMessage(305, LogLevel.Warning, "Cannot read the output of {Service}: {Reason}")]
    public static partial void OutputReadFailed(ILogger logger, string service, string reason);

    [LoggerMessage(306, LogLevel.Error, "Cannot reap {Service} (pid {Pid}): {Reason}; its exit status is unknown")]
    public static partial void ReapFailed(ILogger logger, string service, int pid, string reason);

    [LoggerMessage(307, LogLevel.Critical, "The process event loop failed ({Reason}); process exits are no longer observed")]
    public static partial void EventLoopFailed(ILogger logger, string reason);

    [LoggerMessage(308, LogLevel.Error, "A process event handler failed")]
    public static partial void EventHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(309, LogLevel.Information, "Stopping recorded process {Pid} of a previous daemon with signal {Signal}")]
    public static partial void StoppingRecorded(ILogger logger, int pid, int signal);

    [LoggerMessage(310, LogLevel.Debug, "Took over {Service} (pid {Pid}; this daemon is its parent: {IsChild})")]
    public static partial void Adopted(ILogger logger, string service, int pid, bool isChild);

    [LoggerMessage(311, LogLevel.Warning, "{Service} (pid {Pid}) no longer writes to the pipe GitProc gave it; its further output is not captured")]
    public static partial void OutputNotReattached(ILogger logger, string service, int pid);

    [LoggerMessage(312, LogLevel.Debug, "{Service} (pid {Pid}) ended, and its exit status could not be learnt: it was not this daemon's child")]
    public static partial void ExitStatusUnknown(ILogger logger, string service, int pid);
}
