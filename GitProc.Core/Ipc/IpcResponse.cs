using System.Text.Json;
using System.Text.Json.Serialization;

namespace GitProc.Ipc;

/// <summary>
/// One response of the IPC protocol, one JSON object on one line: <c>{"status": "success", "data": {...}}</c> or
/// <c>{"status": "error", "error": "message", "code": "service_not_found"}</c>.
/// </summary>
public sealed record IpcResponse
{
    /// <summary>The value of <see cref="Status"/> on success.</summary>
    public const string Success = "success";

    /// <summary>The value of <see cref="Status"/> on error.</summary>
    public const string Failure = "error";

    /// <summary><c>success</c> or <c>error</c>.</summary>
    public string Status { get; init; } = "";

    /// <summary>The command's result on success; its shape depends on the command.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Data { get; init; }

    /// <summary>What went wrong, as a sentence, on error.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    /// <summary>
    /// On error, which condition it is (<see cref="GitProcErrorCodes"/>); <see langword="null"/> from a daemon older than the
    /// codes.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Code { get; init; }

    /// <summary>Whether <see cref="Status"/> is <c>success</c>.</summary>
    [JsonIgnore]
    public bool IsSuccess => Status == Success;
}
