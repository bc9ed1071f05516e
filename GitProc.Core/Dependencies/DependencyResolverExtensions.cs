using GitProc.UnitFiles;

namespace GitProc.Dependencies;

/// <summary>Builds a graph straight from parsed units.</summary>
public static class DependencyResolverExtensions
{
    /// <summary>The graph of <paramref name="units"/>, each with its <see cref="UnitFile.After"/>, <see cref="UnitFile.Requires"/> and <see cref="UnitFile.Wants"/>.</summary>
    /// <param name="resolver">The resolver.</param>
    /// <param name="units">The units, in the order that breaks ties.</param>
    /// <returns>The graph.</returns>
    public static IDependencyGraph Build(this IDependencyResolver resolver, IEnumerable<UnitFile> units)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(units);
        return resolver.Build(units.Select(ServiceDependencies.From));
    }
}
