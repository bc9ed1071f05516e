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

    private readonly string? _code;

    /// <summary>
    /// Which condition this is, as a stable code of <see cref="GitProcErrorCodes"/> (<c>service_not_found</c>,
    /// <c>already_running</c>, ...): what the IPC error response and the CLI's <c>--json</c> error object carry. By
    /// default the one the exception's type stands for; set it where the type alone does not say which condition it is.
    /// </summary>
    public string Code
    {
        get => _code ?? GitProcErrorCodes.ForType(this);

        // Set where the type alone does not say which condition it is (already running rather than failed to start).
        init => _code = value;
    }
}
