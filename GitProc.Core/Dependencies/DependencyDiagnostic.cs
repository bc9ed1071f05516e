namespace GitProc.Dependencies;

/// <summary>One finding of <see cref="IDependencyGraph.Validation"/>.</summary>
/// <param name="Kind">What it is about.</param>
/// <param name="Service">The service whose unit has the entry at fault (for a cycle, the cycle's first service).</param>
/// <param name="Dependency">The name the entry refers to; <see langword="null"/> for a cycle.</param>
/// <param name="Cycle">For <see cref="DependencyDiagnosticKind.Cycle"/>, the services in cycle order; otherwise empty.</param>
/// <param name="Message">The finding as a sentence.</param>
public sealed record DependencyDiagnostic(
    DependencyDiagnosticKind Kind,
    string Service,
    string? Dependency,
    IReadOnlyList<string> Cycle,
    string Message)
{
    /// <summary>The key of the entry at fault (<c>After</c>, <c>Requires</c>, <c>Wants</c>), where one entry is; else <see langword="null"/>.</summary>
    public string? Key { get; init; }

    /// <inheritdoc />
    public override string ToString() => Message;
}
