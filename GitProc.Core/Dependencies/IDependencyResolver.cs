using GitProc.UnitFiles;

namespace GitProc.Dependencies;

/// <summary>
/// Orders services by their <c>After=</c>, <c>Requires=</c> and <c>Wants=</c> (CONTRACT §2). Stateful, like the
/// original reference: add services, then ask for orders. Not thread-safe; use one instance per set of units
/// (it is registered transient).
/// </summary>
/// <remarks>
/// <para>
/// Names are service names without <c>.service</c>; a dependency written as <c>x.service</c> means <c>x</c>. A name
/// ending in another unit suffix (<c>.target</c>, <c>.socket</c>, <c>.mount</c>, <c>.path</c>, <c>.timer</c>,
/// <c>.slice</c>, <c>.device</c>, <c>.scope</c>, <c>.swap</c>, <c>.automount</c>, <c>.busname</c>) is not a service:
/// it is ignored in all three lists and reported as a warning by <see cref="Validate"/>.
/// </para>
/// <para>
/// All three lists pull their services in: starting a service starts what it names. <c>After=</c> and
/// <c>Requires=</c> also order (the named service starts first); <c>Wants=</c> does not. A <c>Requires=</c> on a
/// service that is not added is an error; <c>After=</c> or <c>Wants=</c> on one is a warning and is ignored.
/// </para>
/// </remarks>
public interface IDependencyResolver
{
    /// <summary>
    /// Adds a service with its dependencies. Adding a name again replaces its dependencies and keeps its original
    /// place in the add order (which breaks ties in <see cref="GetStartOrder"/>).
    /// </summary>
    /// <param name="name">The service name (a trailing <c>.service</c> is removed).</param>
    /// <param name="after">Services to start before this one (pulled in).</param>
    /// <param name="requires">Like <paramref name="after"/>, and each must exist.</param>
    /// <param name="wants">Services started along with this one, in no particular order relative to it.</param>
    void AddService(string name, IEnumerable<string>? after = null, IEnumerable<string>? requires = null, IEnumerable<string>? wants = null);

    /// <summary>Adds a parsed unit with its <see cref="UnitFile.After"/>, <see cref="UnitFile.Requires"/> and <see cref="UnitFile.Wants"/>.</summary>
    /// <param name="unit">The unit.</param>
    void AddUnit(UnitFile unit);

    /// <summary>
    /// The order in which to start <paramref name="targets"/> and everything they pull in: every service after the
    /// services it orders after.
    /// </summary>
    /// <remarks>
    /// The order depends only on the set of services, never on the order of <paramref name="targets"/>: it is the
    /// depth-first post-order obtained by visiting the set's services in the order they were added, each preceded by
    /// its ordering dependencies (its <c>After=</c> entries, then its <c>Requires=</c> entries, as declared). So
    /// independent services keep the order they were added in, and a dependency comes right before the first
    /// service that needs it unless it was added earlier.
    /// </remarks>
    /// <param name="targets">The services to start; <see langword="null"/> for every added service.</param>
    /// <returns>Each service of the set exactly once, dependencies first.</returns>
    /// <exception cref="DependencyCycleException">The set contains a cycle.</exception>
    /// <exception cref="MissingDependencyException">A service of the set requires a service that was not added.</exception>
    /// <exception cref="ArgumentException">A target was not added.</exception>
    IReadOnlyList<string> GetStartOrder(IEnumerable<string>? targets = null);

    /// <summary>
    /// The exact reverse of <see cref="GetStartOrder"/> for the same targets: dependents stop before what they
    /// depend on. To stop one service together with the services that depend on it, use <see cref="GetDependents"/>.
    /// </summary>
    /// <param name="targets">The services whose start set is stopped; <see langword="null"/> for every added service.</param>
    /// <returns>Each service of the set exactly once, dependents first.</returns>
    /// <exception cref="DependencyCycleException">The set contains a cycle.</exception>
    /// <exception cref="MissingDependencyException">A service of the set requires a service that was not added.</exception>
    /// <exception cref="ArgumentException">A target was not added.</exception>
    IReadOnlyList<string> GetStopOrder(IEnumerable<string>? targets = null);

    /// <summary>
    /// The direct ordering dependencies of a service that were added: its <c>After=</c> then <c>Requires=</c> entries,
    /// as declared, without duplicates. Empty for a name that was not added.
    /// </summary>
    /// <param name="name">The service.</param>
    /// <returns>The services it starts after.</returns>
    IReadOnlyList<string> GetDependencies(string name);

    /// <summary>
    /// The services that directly order after <paramref name="name"/> (by <c>After=</c> or <c>Requires=</c>), in add
    /// order: they must stop before it does.
    /// </summary>
    /// <param name="name">The service.</param>
    /// <returns>Its direct dependents.</returns>
    IReadOnlyList<string> GetDependents(string name);

    /// <summary>
    /// The services whose <c>Requires=</c> names <paramref name="name"/>, in add order: they fail when it fails.
    /// </summary>
    /// <param name="name">The service.</param>
    /// <returns>The services that directly require it.</returns>
    IReadOnlyList<string> GetRequiredBy(string name);

    /// <summary>Whether any added services order after one another in a circle.</summary>
    /// <returns><see langword="true"/> when there is at least one cycle.</returns>
    bool HasCycle();

    /// <summary>
    /// The cycles among the added services: one per group of services that all (transitively) order after each
    /// other, as the shortest cycle through the group's first-added service, starting with that service. Fixing one
    /// cycle of a tangled group may reveal another. Ordered by the add order of their first service.
    /// </summary>
    /// <returns>The cycles, each in cycle order (each service depends on the next, the last on the first).</returns>
    IReadOnlyList<IReadOnlyList<string>> FindCycles();

    /// <summary>Checks the whole graph and returns every problem as data.</summary>
    /// <returns>Errors (cycles, <c>Requires=</c> on missing services) and warnings (ignored entries).</returns>
    DependencyValidation Validate();
}
