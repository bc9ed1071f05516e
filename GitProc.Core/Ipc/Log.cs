using Microsoft.Extensions.Logging;

namespace GitProc.Ipc;

/// <summary>The IPC server's log messages (event ids 9xx).</summary>
internal static partial class Log
{
    [LoggerMessage(900, LogLevel.Information, "Listening for gitproc clients on {SocketPath}")]
    public static partial void Listening(ILogger logger, string socketPath);

    [LoggerMessage(901, LogLevel.Warning, "Replaced a stale socket file at {SocketPath} that no daemon was listening on")]
    public static partial void StaleSocketReplaced(ILogger logger, string socketPath);

    [LoggerMessage(902, LogLevel.Information, "Stopped listening on {SocketPath}")]
    public static partial void Stopped(ILogger logger, string socketPath);

    [LoggerMessage(903, LogLevel.Debug, "Client connection ended: {Reason}")]
    public static partial void ConnectionEnded(ILogger logger, string reason);

    [LoggerMessage(904, LogLevel.Error, "Unexpected error while handling '{Command}' for '{Service}'; the client got an error response")]
    public static partial void UnexpectedCommandError(ILogger logger, string command, string? service, Exception exception);

    [LoggerMessage(905, LogLevel.Warning, "A client sent a request line over {MaxBytes} bytes; its connection was closed")]
    public static partial void OversizedRequest(ILogger logger, int maxBytes);

    [LoggerMessage(906, LogLevel.Error, "Accepting a client connection on {SocketPath} failed; retrying shortly (clients wait in the backlog meanwhile)")]
    public static partial void AcceptFailed(ILogger logger, string socketPath, Exception exception);

    [LoggerMessage(907, LogLevel.Error, "A client connection failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(908, LogLevel.Warning, "Refused a client connection: {MaxConnections} clients are connected already (Ipc.MaxConnections)")]
    public static partial void TooManyConnections(ILogger logger, int maxConnections);

    [LoggerMessage(909, LogLevel.Warning, "Closed the longest-idle client connection (idle {IdleTime}) to admit a new client: {MaxConnections} clients are connected (Ipc.MaxConnections)")]
    public static partial void EvictedLongestIdle(ILogger logger, string idleTime, int maxConnections);

    [LoggerMessage(910, LogLevel.Debug, "Closed an idle client connection: {Reason} for {IdleTimeout} (Ipc.IdleTimeout)")]
    public static partial void ConnectionClosedAsIdle(ILogger logger, string reason, string idleTimeout);

    [LoggerMessage(911, LogLevel.Warning, "Could not serve a first request privately before listening; clients are served all the same")]
    public static partial void WarmUpFailed(ILogger logger, Exception exception);

    [LoggerMessage(912, LogLevel.Information, "File descriptors are available again: accepting gitproc clients on {SocketPath}")]
    public static partial void AcceptingAgain(ILogger logger, string socketPath);

    [LoggerMessage(913, LogLevel.Warning, "Out of file descriptors: new gitproc clients on {SocketPath} wait until some are free; {Reserve} are left to the daemon meanwhile")]
    public static partial void OutOfDescriptors(ILogger logger, string socketPath, int reserve);
}
