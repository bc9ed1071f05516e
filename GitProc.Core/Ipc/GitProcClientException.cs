namespace GitProc.Ipc;

/// <summary>The daemon answered a request with an error (service not found, already running, Git error, ...).</summary>
public sealed class GitProcClientException : GitProcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The daemon's error message.</param>
    public GitProcClientException(string message)
        : base(message)
    {
    }
}
