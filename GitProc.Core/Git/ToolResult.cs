namespace GitProc.Git;

/// <summary>How a helper program ended (<see cref="ToolProcess"/>).</summary>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Output">What it wrote to stdout, as bytes.</param>
/// <param name="Error">What it wrote to stderr.</param>
internal sealed record ToolResult(int ExitCode, byte[] Output, string Error)
{
    /// <summary>Stdout as UTF-8 text.</summary>
    public string OutputText => System.Text.Encoding.UTF8.GetString(Output);
}
