namespace GitProc.Dependencies;

/// <summary>
/// Services order after one another in a circle (through <c>After=</c> or <c>Requires=</c>), so none of them can
/// start first. <see cref="Cycle"/> names every service on the cycle.
/// </summary>
public sealed class DependencyCycleException : DependencyException
{
    /// <summary>Creates the exception for a cycle.</summary>
    /// <param name="cycle">
    /// The services in cycle order: each one depends on the next, and the last on the first. A cycle of one is a
    /// service that depends on itself.
    /// </param>
    public DependencyCycleException(IReadOnlyList<string> cycle)
        : base(Compose(cycle))
    {
        Cycle = cycle;
    }

    /// <summary>The services in cycle order: each one depends on the next, and the last on the first.</summary>
    public IReadOnlyList<string> Cycle { get; }

    /// <summary>Formats a cycle as <c>a -&gt; b -&gt; c -&gt; a</c>.</summary>
    /// <param name="cycle">The services in cycle order.</param>
    /// <returns>The cycle as text, its first service repeated at the end.</returns>
    public static string Format(IReadOnlyList<string> cycle)
    {
        ArgumentNullException.ThrowIfNull(cycle);
        return cycle.Count == 0 ? string.Empty : string.Join(" -> ", cycle.Append(cycle[0]));
    }

    internal static string Compose(IReadOnlyList<string> cycle)
    {
        ArgumentNullException.ThrowIfNull(cycle);
        if (cycle.Count == 0)
        {
            throw new ArgumentException("A cycle names at least one service.", nameof(cycle));
        }

        return $"Dependency cycle: {Format(cycle)}. Each service is ordered after the next one by After= or Requires=; "
            + "remove one of these entries to break the cycle.";
    }
}
