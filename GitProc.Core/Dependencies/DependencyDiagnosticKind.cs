namespace GitProc.Dependencies;

/// <summary>What a <see cref="DependencyDiagnostic"/> is about.</summary>
public enum DependencyDiagnosticKind
{
    /// <summary>An error: services order after one another in a circle.</summary>
    Cycle,

    /// <summary>An error: <c>Requires=</c> names a service that is not in the repository.</summary>
    MissingRequiredService,

    /// <summary>A warning: <c>After=</c> names a service that is not in the repository; the entry is ignored.</summary>
    MissingOrderedService,

    /// <summary>A warning: <c>Wants=</c> names a service that is not in the repository; the entry is ignored.</summary>
    MissingWantedService,

    /// <summary>
    /// A warning: a dependency names a unit that is not a service (<c>network.target</c>, <c>dbus.socket</c>, …);
    /// GitProc supervises only services, so the entry is ignored.
    /// </summary>
    NonServiceUnit,
}
