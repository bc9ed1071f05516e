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

    [LoggerMessage(906, LogLevel.Error, "Accepting a client connection on {SocketPath} failed")]
    public static partial void AcceptFailed(ILogger logger, string socketPath, Exception exception);

    [LoggerMessage(907, LogLevel.Error, "A client connection failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(908, LogLevel.Warning, "Refused a client connection: {MaxConnections} clients are connected already (Ipc.MaxConnections)")]
    public static partial void TooManyConnections(ILogger logger, int maxConnections);
}
