namespace GitProc.UnitFiles;

/// <summary>One <c>Exec*</c> command of a unit file.</summary>
/// <param name="CommandLine">The command line as written, with its prefixes (such as <c>-</c>) removed.</param>
/// <param name="Arguments">
/// The argv, split by systemd's quoting rules; <c>Arguments[0]</c> is the executable. Specifiers (<c>%i</c>) and
/// <c>$VARIABLES</c> are kept as written.
/// </param>
/// <param name="IgnoreFailure">The <c>-</c> prefix: a non-zero exit counts as success.</param>
public sealed record UnitCommand(string CommandLine, IReadOnlyList<string> Arguments, bool IgnoreFailure)
{
    /// <summary>The executable: the first argument.</summary>
    public string Executable => Arguments[0];

    /// <summary>
    /// The special prefixes written before the executable, in order (for example <c>"-"</c>, <c>"+"</c>, <c>"-:"</c>,
    /// <c>"!!"</c>); empty when there are none. Kept for callers that act on them: GitProc itself honours only
    /// <c>-</c> (<see cref="IgnoreFailure"/>) and reports the others as warnings.
    /// </summary>
    public string Prefixes { get; init; } = string.Empty;
}
