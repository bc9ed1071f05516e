using System.Text.Json.Serialization;

namespace GitProc.Ipc;

/// <summary>The data of <c>subscribe</c>'s first response: what the subscription receives. Events follow, one a line.</summary>
public sealed record IpcSubscribeResult
{
    /// <summary>Only events about this service; <see langword="null"/> for every event.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Service { get; init; }

    /// <summary>Only events of these types or families; <see langword="null"/> for every type.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>How many events may wait for this subscriber before it is dropped (<c>Events:SubscriberBuffer</c>).</summary>
    public int Buffer { get; init; }
}
