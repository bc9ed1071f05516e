namespace GitProc.State;

/// <summary>The state file could not be read, written or moved aside, for a reason other than its content.</summary>
public sealed class StateFileException : GitProcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The state file.</param>
    /// <param name="message">What failed and what to do, as a sentence.</param>
    /// <param name="innerException">The I/O error.</param>
    public StateFileException(string path, string message, Exception innerException)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>The state file.</summary>
    public string Path { get; }
}
