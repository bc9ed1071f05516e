namespace GitProc.Core.Tests.Cli;

/// <summary>What one in-process run of the CLI printed and returned.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Error}";
}
