namespace GitProc.Dependencies;

/// <summary>
/// The dependency graph of one set of services, made by <see cref="IDependencyResolver.Build"/>: immutable, so every
/// query is a function of its arguments alone and may be asked from any thread, in any order.
/// </summary>
public interface IDependencyGraph
{
    /// <summary>The services of the set, each once, in the order they were given (the first place of a name given twice).</summary>
    IReadOnlyList<string> Services { get; }

    /// <summary>Whether any services of the set order after one another in a circle.</summary>
    bool HasCycle { get; }

    /// <summary>
    /// The cycles of the set: one per group of services that all (transitively) order after each other, as the
    /// shortest cycle through the group's first service, starting with that service. Fixing one cycle of a tangled
    /// group may reveal another. Ordered by the order of their first service; each in cycle order (each service
    /// depends on the next, the last on the first).
    /// </summary>
    IReadOnlyList<IReadOnlyList<string>> Cycles { get; }

    /// <summary>Every problem of the set as data: errors (cycles, <c>Requires=</c> on missing services) and warnings (ignored entries).</summary>
    DependencyValidation Validation { get; }

    /// <summary>
    /// The order in which to start <paramref name="targets"/> and everything they pull in: every service after the
    /// services it orders after.
    /// </summary>
    /// <remarks>
    /// The order depends only on the set of services, never on the order of <paramref name="targets"/>: it is the
    /// depth-first post-order obtained by visiting the set's services in the order they were given, each preceded by
    /// its ordering dependencies (its <c>After=</c> entries, then its <c>Requires=</c> entries, as declared). So
    /// independent services keep the order they were given in, and a dependency comes right before the first
    /// service that needs it unless it was given earlier.
    /// </remarks>
    /// <param name="targets">The services to start; <see langword="null"/> for every service of the set.</param>
    /// <returns>Each service of the set exactly once, dependencies first.</returns>
    /// <exception cref="DependencyCycleException">The set contains a cycle.</exception>
    /// <exception cref="MissingDependencyException">A service of the set requires a service that is not in the graph.</exception>
    /// <exception cref="ArgumentException">A target is not in the graph.</exception>
    IReadOnlyList<string> GetStartOrder(IEnumerable<string>? targets = null);

    /// <summary>
    /// The exact reverse of <see cref="GetStartOrder"/> for the same targets: dependents stop before what they
    /// depend on. To stop one service together with the services that depend on it, use <see cref="GetDependents"/>.
    /// </summary>
    /// <param name="targets">The services whose start set is stopped; <see langword="null"/> for every service of the set.</param>
    /// <returns>Each service of the set exactly once, dependents first.</returns>
    /// <exception cref="DependencyCycleException">The set contains a cycle.</exception>
    /// <exception cref="MissingDependencyException">A service of the set requires a service that is not in the graph.</exception>
    /// <exception cref="ArgumentException">A target is not in the graph.</exception>
    IReadOnlyList<string> GetStopOrder(IEnumerable<string>? targets = null);

    /// <summary>
    /// The direct ordering dependencies of a service that are in the graph: its <c>After=</c> then <c>Requires=</c>
    /// entries, as declared, without duplicates. Empty for a name not in the graph.
    /// </summary>
    /// <param name="name">The service.</param>
    /// <returns>The services it starts after.</returns>
    IReadOnlyList<string> GetDependencies(string name);

    /// <summary>
    /// The services that directly order after <paramref name="name"/> (by <c>After=</c> or <c>Requires=</c>), in the
    /// graph's order: they must stop before it does.
    /// </summary>
    /// <param name="name">The service.</param>
    /// <returns>Its direct dependents.</returns>
    IReadOnlyList<string> GetDependents(string name);

    /// <summary>The services whose <c>Requires=</c> names <paramref name="name"/>, in the graph's order: they fail when it fails.</summary>
    /// <param name="name">The service.</param>
    /// <returns>The services that directly require it.</returns>
    IReadOnlyList<string> GetRequiredBy(string name);
}
