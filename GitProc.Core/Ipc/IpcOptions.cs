namespace GitProc.Ipc;

/// <summary>The daemon's Unix socket.</summary>
public sealed class IpcOptions
{
    /// <summary>The socket file's mode, in octal. Default <c>0600</c> (owner only).</summary>
    public string SocketMode { get; set; } = "0600";

    /// <summary>A group to own the socket (with a mode such as <c>0660</c>); <see langword="null"/> keeps the daemon's. Default none.</summary>
    public string? SocketGroup { get; set; }

    /// <summary>
    /// How many clients may be connected at once. A client beyond that gets one error response and a closed
    /// connection, so a script that leaks connections cannot use up the descriptors services need for their
    /// pipes. Default 1024.
    /// </summary>
    public int MaxConnections { get; set; } = 1024;
}
