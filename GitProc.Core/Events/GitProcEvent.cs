using System.Text.Json;
using System.Text.Json.Serialization;

namespace GitProc.Events;

/// <summary>
/// One event of the stream, sent to subscribers as one JSON object a line with snake_case keys. Fields that do not
/// apply to a type are left out; <c>docs/events.md</c> lists which each type carries.
/// </summary>
public sealed record GitProcEvent
{
    /// <summary>The event's number: one more than the previous event's, from 1 when the daemon started.</summary>
    public long Seq { get; init; }

    /// <summary>When it happened (UTC).</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>One of <see cref="EventTypes"/>.</summary>
    public string Type { get; init; } = "";

    /// <summary>The service it is about (<c>service.state</c>, <c>health.changed</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Service { get; init; }

    /// <summary>The status (<c>running</c>, <c>stopped</c>, <c>failed</c>) or health before.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? From { get; init; }

    /// <summary>The status or health after.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? To { get; init; }

    /// <summary>The sub-state before (<c>running</c>, <c>auto-restart</c>, <c>start-limit-hit</c>, …).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FromSubState { get; init; }

    /// <summary>The sub-state after.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ToSubState { get; init; }

    /// <summary>The service's main process, while it has one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Pid { get; init; }

    /// <summary>The main process's last exit code, when known.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ExitCode { get; init; }

    /// <summary>How many times the service was restarted automatically.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? RestartCount { get; init; }

    /// <summary>Why: how the process ended, why it failed, why a commit was rolled back, a health check's error.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }

    /// <summary>The commit (full hash) a commit event, or a fetch, is about.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Commit { get; init; }

    /// <summary><c>commit.rolled_back</c>: the commit whose definitions run again.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RestoredCommit { get; init; }

    /// <summary><c>commit.applied</c>: services started.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Started { get; init; }

    /// <summary><c>commit.applied</c>: services restarted.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Restarted { get; init; }

    /// <summary><c>commit.applied</c>: services stopped.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Stopped { get; init; }

    /// <summary><c>commit.rejected</c>: every error.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Errors { get; init; }

    /// <summary><c>git.fetch</c>: <c>up_to_date</c>, <c>fast_forwarded</c>, <c>local_ahead</c> or <c>failed</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Outcome { get; init; }

    /// <summary><c>git.fetch</c>: the branch's commit before the fetch.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PreviousCommit { get; init; }

    // Serialized once for every subscriber: 100 subscribers cost one serialization, not 100.
    private byte[]? _utf8Json;

    /// <summary>The event as the one JSON line subscribers receive (without the newline), serialized on first use.</summary>
    internal byte[] ToUtf8Json()
    {
        var json = Volatile.Read(ref _utf8Json);
        if (json is null)
        {
            json = JsonSerializer.SerializeToUtf8Bytes(this, EventJsonContext.Default.GitProcEvent);
            Volatile.Write(ref _utf8Json, json);
        }

        return json;
    }
}
