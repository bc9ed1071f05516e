namespace GitProc.Ipc;

/// <summary>
/// The data of a successful <c>logs</c>: <c>{"logs": "text"}</c>. The text is whole stored lines, each ending
/// with <c>\n</c>, so a client writes it out as it is; with <c>follow</c> each further response holds one new line.
/// </summary>
public sealed record IpcLogsResult
{
    /// <summary>The lines, each ending with <c>\n</c>; empty when there are none.</summary>
    public string Logs { get; init; } = "";
}
