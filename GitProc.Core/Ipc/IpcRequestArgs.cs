using System.Text.Json.Serialization;

namespace GitProc.Ipc;

/// <summary>The <c>args</c> object of an <see cref="IpcRequest"/>.</summary>
public sealed record IpcRequestArgs
{
    /// <summary><c>logs</c>: how many stored lines to return. Default <see cref="IpcCommands.DefaultLogLines"/> (100).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Lines { get; init; }

    /// <summary><c>logs</c>: keep the connection open and send each new line as it arrives. Default <see langword="false"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Follow { get; init; }

    /// <summary><c>sync</c>: answer once the applied commit's verification has ended (kept or rolled back). Default <see langword="false"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Wait { get; init; }

    /// <summary><c>history</c>: how many records, newest first. Default all that are kept.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Limit { get; init; }

    /// <summary><c>subscribe</c>: only events of these types (an entry without a dot, such as <c>commit</c>, means the family). Default all.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>
    /// <c>rollback</c>: the commit (full or short hash, or any revision) whose tree to restore; <c>plan</c>: the revision
    /// to plan (default: the tip of the watched branch).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Commit { get; init; }

    /// <summary><c>plan</c>: plan for this host of the fleet rather than for the daemon's own (<c>ConditionHost=</c>). Default this daemon's host.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Host { get; init; }

    /// <summary><c>plan</c> with <see cref="Host"/>: that host's machine id (32 hexadecimal digits), for units whose <c>ConditionHost=</c> names one. Default unknown.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MachineId { get; init; }
}
