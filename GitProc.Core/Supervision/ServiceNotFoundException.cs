namespace GitProc.Supervision;

/// <summary>A command named a service that is not in the applied desired state.</summary>
public sealed class ServiceNotFoundException : GitProcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="service">The unknown name.</param>
    public ServiceNotFoundException(string service)
        : base($"Service not found: {service}")
    {
        Service = service;
    }

    /// <summary>The unknown name.</summary>
    public string Service { get; }
}
