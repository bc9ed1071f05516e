using System.Net.Sockets;

namespace GitProc.Ipc;

/// <summary>
/// The daemon's control plane: the Unix socket (<see cref="GitProcOptions.SocketPath"/>) that the <c>gitproc</c> CLI and
/// <see cref="GitProcClient"/> talk to, one JSON request and one JSON response a line. Every connection is served on its
/// own, so a slow or hostile client never delays another; idle connections close after <see cref="IpcOptions.IdleTimeout"/>.
/// </summary>
/// <remarks>
/// Start it in two steps, as the daemon does: <see cref="BindAsync"/> first (a second daemon on the same socket then
/// fails there, before it touches any service), then <see cref="StartAccepting"/> once the services are recovered, so
/// the first client already sees them. <see cref="StopAsync"/> (or disposal) closes every connection and removes the
/// socket file.
/// </remarks>
public interface IIpcServer : IAsyncDisposable
{
    /// <summary>The socket file, as an absolute path.</summary>
    string SocketPath { get; }

    /// <summary>
    /// Claims the socket: replaces a stale socket file a dead daemon left, refuses one a live daemon listens on, and
    /// sets the socket's mode and group (<see cref="IpcOptions"/>) before any client can reach it. Clients that connect
    /// from now on wait until <see cref="StartAccepting"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the claim.</param>
    /// <returns>A task that completes once the socket is bound.</returns>
    /// <exception cref="IpcSocketInUseException">A live daemon listens on the socket; nothing was changed.</exception>
    /// <exception cref="GitProcException">The socket could not be created, or its mode or group not set.</exception>
    /// <exception cref="InvalidOperationException">The server is bound already.</exception>
    Task BindAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts serving clients on the bound socket, in the background.</summary>
    /// <exception cref="InvalidOperationException"><see cref="BindAsync"/> has not completed.</exception>
    void StartAccepting();

    /// <summary>
    /// What the command <c>reexec</c> (the in-place upgrade) runs; <see langword="null"/>, the default, refuses it with
    /// an error that says the daemon cannot re-execute itself.
    /// </summary>
    Action? Reexec { get; set; }

    /// <summary>
    /// For an in-place upgrade: stops accepting and closes every connection, but keeps the listening socket (and its
    /// file) open, so that clients arriving meanwhile wait in its backlog for the re-executed program, which takes it
    /// over.
    /// </summary>
    /// <returns>The listening socket, to be kept open across <c>execve</c>.</returns>
    /// <exception cref="InvalidOperationException">The server is not bound.</exception>
    Task<SafeSocketHandle> DetachListenerAsync();

    /// <summary>Stops accepting, closes every connection (cancelling the commands they run) and removes the socket file.</summary>
    /// <param name="cancellationToken">Stops waiting for connections to close.</param>
    /// <returns>A task that completes once serving has stopped.</returns>
    Task StopAsync(CancellationToken cancellationToken = default);
}
