namespace GitProc.Ipc;

/// <summary>Why the server closes an idle connection; negative, so it cannot be mistaken for an idle timestamp.</summary>
internal enum IpcCloseReason : long
{
    /// <summary>Idle for <see cref="IpcOptions.IdleTimeout"/>.</summary>
    IdleTimeout = -1,

    /// <summary>The longest idle when a client arrived at <see cref="IpcOptions.MaxConnections"/>.</summary>
    ConnectionLimit = -2,
}
