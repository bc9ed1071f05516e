namespace GitProc.ResourceControl;

/// <summary>A cgroup could not be created, configured, read, emptied or removed; the message names the file and value.</summary>
public sealed class ResourceControlException : GitProcException
{
    /// <summary>Creates an exception with no message.</summary>
    public ResourceControlException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public ResourceControlException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public ResourceControlException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception about one service's cgroup.</summary>
    /// <param name="service">The service.</param>
    /// <param name="path">The cgroup file or directory concerned.</param>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public ResourceControlException(string? service, string? path, string message, Exception? innerException = null)
        : base(message, innerException!)
    {
        Service = service;
        Path = path;
    }

    /// <summary>The service whose cgroup is concerned, when one is.</summary>
    public string? Service { get; }

    /// <summary>The cgroup file or directory concerned, when one is.</summary>
    public string? Path { get; }
}
