namespace GitProc.Processes;

/// <summary>A service's process could not be started; the message says which unit, which program and why.</summary>
public sealed class ProcessStartException : GitProcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="service">The service.</param>
    /// <param name="executable">The program that was to be executed.</param>
    /// <param name="reason">Why it failed, as a sentence.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public ProcessStartException(string service, string executable, string reason, Exception? innerException = null)
        : base($"Cannot start {service}: {executable}: {reason}", innerException ?? new InvalidOperationException(reason))
    {
        Service = service;
        Executable = executable;
        Reason = reason;
    }

    /// <summary>The service.</summary>
    public string Service { get; }

    /// <summary>The program that was to be executed.</summary>
    public string Executable { get; }

    /// <summary>Why it failed.</summary>
    public string Reason { get; }

    /// <summary>
    /// The daemon, not the service, ran short: out of file descriptors or memory (EMFILE, ENFILE, ENOMEM, EAGAIN from
    /// a pipe, the spawn, or opening a file). Such a start is retried with backoff and never counts as the service's
    /// failure. Default <see langword="false"/>.
    /// </summary>
    public bool IsResourceShortage { get; init; }
}
