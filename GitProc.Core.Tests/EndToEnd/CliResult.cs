namespace GitProc.Core.Tests.EndToEnd;

/// <summary>What one run of the real <c>gitproc</c> process produced.</summary>
internal sealed record CliResult(string[] Arguments, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout split into lines, without the final empty one.</summary>
    public string[] Lines => Stdout.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');

    /// <summary>Stderr split into lines, without the final empty one.</summary>
    public string[] ErrorLines => Stderr.Length == 0 ? [] : Stderr.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');

    public override string ToString() =>
        $"gitproc {string.Join(' ', Arguments)} → exit {ExitCode}\n--- stdout ---\n{Stdout}--- stderr ---\n{Stderr}";
}
