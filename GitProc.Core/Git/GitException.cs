namespace GitProc.Git;

/// <summary>
/// A Git operation failed: the repository is missing, a commit cannot be found, an object is corrupt, a fetch
/// failed or a branch cannot be moved safely. The message says what failed and where; the underlying libgit2
/// error, if any, is the inner exception.
/// </summary>
public sealed class GitException : GitProcException
{
    /// <summary>Creates an exception with no message.</summary>
    public GitException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public GitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public GitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
