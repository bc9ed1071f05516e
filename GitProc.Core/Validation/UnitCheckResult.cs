using GitProc.UnitFiles;

namespace GitProc.Validation;

/// <summary>What checking a set of unit files found: the units that parsed, and every error and warning.</summary>
/// <param name="FileCount">How many unit files were checked.</param>
/// <param name="Units">The units that parsed, in the order given.</param>
/// <param name="Errors">
/// Every error: of each file (parse errors, invalid names, unreadable files) and of the set (a <c>Requires=</c> on a
/// missing service, a dependency cycle naming every unit on it), files in the order given, each file's in line order.
/// </param>
/// <param name="Warnings">Everything kept but not acted on, in the same order.</param>
public sealed record UnitCheckResult(
    int FileCount,
    IReadOnlyList<UnitFile> Units,
    IReadOnlyList<UnitDiagnostic> Errors,
    IReadOnlyList<UnitDiagnostic> Warnings)
{
    /// <summary><see langword="true"/> when there are no errors: the daemon would apply these units.</summary>
    public bool IsValid => Errors.Count == 0;
}
