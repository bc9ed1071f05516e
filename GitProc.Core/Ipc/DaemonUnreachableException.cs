namespace GitProc.Ipc;

/// <summary>The daemon's socket is missing, refuses connections, or the daemon went away mid-request.</summary>
public sealed class DaemonUnreachableException : GitProcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="socketPath">The socket tried.</param>
    /// <param name="reason">Why it failed, in words.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public DaemonUnreachableException(string socketPath, string reason, Exception? innerException = null)
        : base($"Cannot connect to the gitproc daemon at {socketPath}: {reason}", innerException ?? new IOException(reason))
    {
        SocketPath = socketPath;
    }

    /// <summary>The socket tried.</summary>
    public string SocketPath { get; }

    /// <summary>The daemon accepted the request's connection and closed it without answering (it was stopping or upgrading).</summary>
    internal bool ClosedBeforeAnswer { get; init; }
}
