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

    /// <summary>
    /// The repository itself could not be opened: nothing at its path, a file or a directory that is not a Git
    /// repository, or no permission to read it. <see langword="false"/> for a failure inside a repository that opened (a
    /// corrupt object, an unknown commit, a failed fetch), which the repository's owner may still repair in place.
    /// </summary>
    public bool RepositoryUnavailable { get; init; }
}
