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

    /// <summary>Creates the exception with the error's code.</summary>
    /// <param name="message">The daemon's error message.</param>
    /// <param name="code">The error's code (<see cref="GitProcErrorCodes"/>), as the daemon sent it.</param>
    /// <remarks><see cref="GitProcException.Code"/> is <c>failed</c> when the daemon sent none (one older than the codes).</remarks>
    public GitProcClientException(string message, string? code)
        : base(message)
    {
        Code = code ?? GitProcErrorCodes.Failed;
    }
}
