namespace GitProc.Ipc;

/// <summary>The daemon's Unix socket.</summary>
public sealed class IpcOptions
{
    /// <summary>The shortest <see cref="IdleTimeout"/> accepted: 1 second (shorter would cut scripts off between commands).</summary>
    internal static readonly TimeSpan MinIdleTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The socket file's mode, in octal. Default <c>0600</c> (owner only).</summary>
    public string SocketMode { get; set; } = "0600";

    /// <summary>A group to own the socket (with a mode such as <c>0660</c>); <see langword="null"/> keeps the daemon's. Default none.</summary>
    public string? SocketGroup { get; set; }

    /// <summary>
    /// How many clients may be connected at once, so a script that leaks connections cannot use up the descriptors
    /// services need for their pipes. When a client arrives at the limit, the connection that has been idle longest
    /// (for at least a second, with no request in progress and not following) gets one error response and is closed
    /// to make room; only when none is idle is the newcomer refused with an error response. Default 1024.
    /// </summary>
    public int MaxConnections { get; set; } = 1024;

    /// <summary>
    /// How long a connection may stay idle (no request in progress and nothing received, or its replies left unread)
    /// before the daemon closes it, after one error response saying so; the client may reconnect. Connections that
    /// stream (<c>logs</c> with <c>follow</c>, <c>subscribe</c>) are never idle. At least 1 second.
    /// Default 5 minutes.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
