namespace GitProc.Supervision;

/// <summary>A command could not be carried out on a service (already running, not running, failed to start).</summary>
public sealed class ServiceOperationException : GitProcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="service">The service.</param>
    /// <param name="message">What went wrong, as a sentence naming the service.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public ServiceOperationException(string service, string message, Exception? innerException = null)
        : base(message, innerException ?? new InvalidOperationException(message))
    {
        Service = service;
    }

    /// <summary>The service.</summary>
    public string Service { get; }
}
