namespace GitProc.Dependencies;

/// <summary>
/// Builds the dependency graph of a set of services from their <c>After=</c>, <c>Requires=</c> and <c>Wants=</c>
/// keys. Stateless and thread-safe (registered as a singleton): each <see cref="Build"/> returns a new,
/// immutable <see cref="IDependencyGraph"/> that answers every question about that set.
/// </summary>
/// <remarks>
/// <para>
/// Names are service names without <c>.service</c>; a dependency written as <c>x.service</c> means <c>x</c>. A name
/// ending in another unit suffix (<c>.target</c>, <c>.socket</c>, <c>.mount</c>, <c>.path</c>, <c>.timer</c>,
/// <c>.slice</c>, <c>.device</c>, <c>.scope</c>, <c>.swap</c>, <c>.automount</c>, <c>.busname</c>) is not a service:
/// it is ignored in all three lists and reported as a warning by <see cref="IDependencyGraph.Validation"/>.
/// </para>
/// <para>
/// All three lists pull their services in: starting a service starts what it names. <c>After=</c> and
/// <c>Requires=</c> also order (the named service starts first); <c>Wants=</c> does not. A <c>Requires=</c> on a
/// service that is not in the set is an error; <c>After=</c> or <c>Wants=</c> on one is a warning and is ignored.
/// </para>
/// <para>Parsed units go in with the <see cref="DependencyResolverExtensions.Build(IDependencyResolver, IEnumerable{UnitFiles.UnitFile})"/> extension.</para>
/// </remarks>
public interface IDependencyResolver
{
    /// <summary>
    /// The graph of <paramref name="services"/>. A name given twice takes the later entry's dependencies and keeps the
    /// earlier entry's place in the order (which breaks ties in <see cref="IDependencyGraph.GetStartOrder"/>).
    /// </summary>
    /// <param name="services">The services with their dependencies, in the order that breaks ties.</param>
    /// <returns>The graph; building never fails on cycles or missing services, which the graph reports.</returns>
    /// <exception cref="ArgumentException">A name is empty (or only <c>.service</c>).</exception>
    IDependencyGraph Build(IEnumerable<ServiceDependencies> services);
}
