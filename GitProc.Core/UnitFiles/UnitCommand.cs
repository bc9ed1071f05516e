namespace GitProc.UnitFiles;

/// <summary>One <c>Exec*</c> command of a unit file.</summary>
/// <param name="CommandLine">The command line as written, with its prefixes (such as <c>-</c>) removed.</param>
/// <param name="Arguments">The argv, split by systemd's quoting rules; <c>Arguments[0]</c> is the executable.</param>
/// <param name="IgnoreFailure">The <c>-</c> prefix: a non-zero exit counts as success.</param>
public sealed record UnitCommand(string CommandLine, IReadOnlyList<string> Arguments, bool IgnoreFailure)
{
    /// <summary>The executable: the first argument.</summary>
    public string Executable => Arguments[0];
}
