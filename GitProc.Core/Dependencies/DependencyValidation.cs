namespace GitProc.Dependencies;

/// <summary>The findings of <see cref="IDependencyGraph.Validation"/>: errors block a start, warnings do not.</summary>
/// <param name="Errors">Every cycle and every <c>Requires=</c> on a missing service.</param>
/// <param name="Warnings">Every ignored entry: non-service units, and <c>After=</c>/<c>Wants=</c> on missing services.</param>
public sealed record DependencyValidation(IReadOnlyList<DependencyDiagnostic> Errors, IReadOnlyList<DependencyDiagnostic> Warnings)
{
    /// <summary><see langword="true"/> when there are no errors.</summary>
    public bool IsValid => Errors.Count == 0;
}
