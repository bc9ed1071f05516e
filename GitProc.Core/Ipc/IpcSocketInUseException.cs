namespace GitProc.Ipc;

/// <summary>Another daemon is listening on the configured socket, so this one must not start.</summary>
public sealed class IpcSocketInUseException : GitProcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="socketPath">The socket a live daemon owns.</param>
    public IpcSocketInUseException(string socketPath)
        : base($"Another gitproc daemon is already listening on {socketPath}; stop it first or choose another socket with --socket.")
    {
        SocketPath = socketPath;
    }

    /// <summary>The socket a live daemon owns.</summary>
    public string SocketPath { get; }
}
