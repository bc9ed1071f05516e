namespace GitProc.Dependencies;

/// <summary>The base of the errors that make a set of services impossible to order: a cycle or a missing requirement.</summary>
public class DependencyException : GitProcException
{
    /// <summary>Creates an exception with no message.</summary>
    public DependencyException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What is wrong, as a sentence.</param>
    public DependencyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    /// <param name="message">What is wrong, as a sentence.</param>
    /// <param name="innerException">The cause.</param>
    public DependencyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
