using GitProc.UnitFiles;

namespace GitProc.Core.Tests.UnitFiles;

/// <summary>
/// Why GitProc refuses some real systemd units: the documented list (docs/units.md, "Real Debian units"). Any other
/// refusal of a unit a distribution ships is a bug.
/// </summary>
internal static class UnsupportedUnits
{
    public const string Masked = "masked (an empty file or a link to /dev/null)";
    public const string NoExecStart = "no ExecStart= (systemd's own units that only trigger an action)";
    public const string SeveralExecStart = "several ExecStart= in a service that is not Type=oneshot";

    /// <summary>The documented reason <paramref name="error"/> is, or <see langword="null"/> for an undocumented one.</summary>
    public static string? Classify(UnitFileParseException error)
    {
        // Every refusal names the file; all but a missing ExecStart= name the line too.
        if (error.Errors.Count != 1 || error.FileName.Length == 0)
        {
            return null;
        }

        var e = error.Errors[0];
        return e switch
        {
            { Key: "ExecStart", Value: null } when e.Reason.Contains("no settings at all", StringComparison.Ordinal) => Masked,
            { Key: "ExecStart", Value: null } when e.Reason.Contains("ExecStart=/path/to/program", StringComparison.Ordinal) => NoExecStart,
            { Key: "ExecStart", Line: > 0 } when e.Reason.Contains("only Type=oneshot services may have", StringComparison.Ordinal) => SeveralExecStart,
            _ => null,
        };
    }
}
