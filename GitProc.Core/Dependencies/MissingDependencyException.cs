namespace GitProc.Dependencies;

/// <summary>A service has <c>Requires=</c> on a service that is not in the repository.</summary>
public sealed class MissingDependencyException : DependencyException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="service">The service whose unit has the <c>Requires=</c> entry.</param>
    /// <param name="missingDependency">The required service that does not exist.</param>
    public MissingDependencyException(string service, string missingDependency)
        : base(Compose(service, missingDependency))
    {
        Service = service;
        MissingDependency = missingDependency;
    }

    /// <summary>The service whose unit has the <c>Requires=</c> entry.</summary>
    public string Service { get; }

    /// <summary>The required service that does not exist.</summary>
    public string MissingDependency { get; }

    internal static string Compose(string service, string missingDependency) =>
        $"Service '{service}' requires '{missingDependency}' (Requires={missingDependency} in {service}.service), "
        + $"but {missingDependency}.service is not in the repository. Add that unit, or remove the entry "
        + "(use Wants= for an optional dependency).";
}
