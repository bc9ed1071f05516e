namespace GitProc;

/// <summary>
/// The base of every error GitProc reports. Subclasses carry their context (file, line, service, command)
/// as properties; the message is a sentence a person can act on.
/// </summary>
public class GitProcException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public GitProcException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public GitProcException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public GitProcException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
