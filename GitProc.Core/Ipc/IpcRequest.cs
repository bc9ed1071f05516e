using System.Text.Json.Serialization;

namespace GitProc.Ipc;

/// <summary>
/// One request of the IPC protocol, sent as one JSON object on one line:
/// <c>{"command": "status", "service": "web", "args": {"lines": 100, "follow": false, "commit": "abc123"}}</c>.
/// </summary>
public sealed record IpcRequest
{
    /// <summary>One of <see cref="IpcCommands"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Command { get; init; }

    /// <summary>The service the command is about (every command but <c>list</c>, <c>sync</c> and <c>rollback</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Service { get; init; }

    /// <summary>Further arguments, when the command takes any.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IpcRequestArgs? Args { get; init; }
}
