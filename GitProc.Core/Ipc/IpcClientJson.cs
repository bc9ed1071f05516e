using System.Buffers;
using System.Text.Json;

namespace GitProc.Ipc;

/// <summary>
/// The client's side of the protocol, written against <see cref="Utf8JsonWriter"/> and <see cref="JsonDocument"/>
/// directly rather than the (source-generated) serializer: a CLI process makes one request, and the serializer's
/// first-call set-up costs it more time than the whole exchange (about 30 ms of JIT per process, measured).
/// </summary>
internal static class IpcClientJson
{
    public static void WriteRequest(IBufferWriter<byte> output, IpcRequest request)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        if (request.Command is not null)
        {
            writer.WriteString("command"u8, request.Command);
        }

        if (request.Service is not null)
        {
            writer.WriteString("service"u8, request.Service);
        }

        if (request.Args is { } args)
        {
            writer.WriteStartObject("args"u8);
            if (args.Lines is { } lines)
            {
                writer.WriteNumber("lines"u8, lines);
            }

            if (args.Follow is { } follow)
            {
                writer.WriteBoolean("follow"u8, follow);
            }

            if (args.Commit is not null)
            {
                writer.WriteString("commit"u8, args.Commit);
            }

            if (args.Host is not null)
            {
                writer.WriteString("host"u8, args.Host);
            }

            if (args.MachineId is not null)
            {
                writer.WriteString("machine_id"u8, args.MachineId);
            }

            if (args.Wait is { } wait)
            {
                writer.WriteBoolean("wait"u8, wait);
            }

            if (args.Limit is { } limit)
            {
                writer.WriteNumber("limit"u8, limit);
            }

            if (args.Types is { } types)
            {
                writer.WriteStartArray("types"u8);
                foreach (var type in types)
                {
                    writer.WriteStringValue(type);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <exception cref="JsonException">Not a JSON object with a string <c>status</c>.</exception>
    public static IpcResponse ParseResponse(ReadOnlyMemory<byte> line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status"u8, out var status) || status.ValueKind != JsonValueKind.String)
        {
            throw new JsonException("a response must be a JSON object with a \"status\" string");
        }

        return new IpcResponse
        {
            Status = status.GetString()!,
            Data = root.TryGetProperty("data"u8, out var data) && data.ValueKind != JsonValueKind.Null ? data.Clone() : null,
            Error = String(root, "error"u8),
            Code = String(root, "code"u8),
        };
    }

    public static IpcStartResult ReadStart(JsonElement data) => new() { Pid = Int(data, "pid"u8), Service = String(data, "service"u8) ?? "" };

    public static IpcStopResult ReadStop(JsonElement data) => new() { Service = String(data, "service"u8) ?? "" };

    public static IpcLogsResult ReadLogs(JsonElement data) => new() { Logs = String(data, "logs"u8) ?? "" };

    public static IpcStatusResult ReadStatus(JsonElement data) => new()
    {
        Service = String(data, "service"u8) ?? "",
        State = String(data, "state"u8) ?? "",
        Pid = Int(data, "pid"u8),
        StartTime = Time(data, "start_time"u8),
        RestartCount = Int(data, "restart_count"u8) ?? 0,
        LastExitCode = Int(data, "last_exit_code"u8),
        SubState = String(data, "sub_state"u8),
        UnmetCondition = String(data, "unmet_condition"u8),
        Description = String(data, "description"u8),
        ManuallyStopped = data.TryGetProperty("manually_stopped"u8, out var stopped) && stopped.ValueKind == JsonValueKind.True,
        FailureReason = String(data, "failure_reason"u8),
        LastExit = String(data, "last_exit"u8),
        LimitsEnforced = data.TryGetProperty("limits_enforced"u8, out var enforced) && enforced.ValueKind == JsonValueKind.True,
        LimitsNote = String(data, "limits_note"u8),
        StatusText = String(data, "status_text"u8),
        MemoryBytes = Long(data, "memory_bytes"u8),
        CpuPercent = Double(data, "cpu_percent"u8),
        CpuTimeSeconds = Double(data, "cpu_time_seconds"u8),
        Tasks = Long(data, "tasks"u8),
        Health = String(data, "health"u8),
        HealthError = String(data, "health_error"u8),
        RejectedCommit = String(data, "rejected_commit"u8),
        HealthErrorTime = Time(data, "health_error_time"u8),
        GitError = String(data, "git_error"u8),
        StateError = String(data, "state_error"u8),
        StateErrorSince = Time(data, "state_error_since"u8),
        Warnings = Strings(data, "warnings"u8),
        VerifyingCommit = String(data, "verifying_commit"u8),
        VerifyingUntil = Time(data, "verifying_until"u8),
        RolledBackCommit = String(data, "rolled_back_commit"u8),
        RollbackReason = String(data, "rollback_reason"u8),
        Remote = String(data, "remote"u8),
        LastFetch = Time(data, "last_fetch"u8),
        LastFetchOutcome = String(data, "last_fetch_outcome"u8),
        LastFetchError = String(data, "last_fetch_error"u8),
        LastFetchSuccess = Time(data, "last_fetch_success"u8),
        FetchFailures = Int(data, "fetch_failures"u8),
        NextFetch = Time(data, "next_fetch"u8),
    };

    private static DateTimeOffset? Time(JsonElement data, ReadOnlySpan<byte> name) =>
        data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetDateTimeOffset() : null;

    public static IpcListResult ReadList(JsonElement data)
    {
        var services = new List<IpcListEntry>();
        if (data.TryGetProperty("services"u8, out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in array.EnumerateArray())
            {
                services.Add(new IpcListEntry
                {
                    Name = String(item, "name"u8) ?? "",
                    Status = String(item, "status"u8) ?? "",
                    SubState = String(item, "sub_state"u8),
                    Pid = Int(item, "pid"u8),
                    LastExitCode = Int(item, "last_exit_code"u8),
                    StatusText = String(item, "status_text"u8),
                });
            }
        }

        return new IpcListResult { Services = services, RolledBack = String(data, "rolled_back"u8) };
    }

    public static IpcSyncResult ReadSync(JsonElement data) => new()
    {
        Commit = String(data, "commit"u8) ?? "",
        Branch = String(data, "branch"u8) ?? "",
        Repository = String(data, "repository"u8) ?? "",
        Reloaded = Int(data, "reloaded"u8) ?? 0,
        Started = Strings(data, "started"u8),
        Restarted = Strings(data, "restarted"u8),
        Stopped = Strings(data, "stopped"u8),
        Warnings = Strings(data, "warnings"u8),
        Result = String(data, "result"u8),
        RollbackReason = String(data, "rollback_reason"u8),
        RestoredCommit = String(data, "restored_commit"u8),
    };

    public static IpcPlanResult ReadPlan(JsonElement data) => new()
    {
        Commit = String(data, "commit"u8) ?? "",
        Host = String(data, "host"u8),
        Actions = Objects(data, "actions"u8, item => new IpcPlannedAction
        {
            Service = String(item, "service"u8) ?? "",
            Action = String(item, "action"u8) ?? "",
            Changed = Strings(item, "changed"u8),
            Reason = String(item, "reason"u8),
        }),
        Errors = Strings(data, "errors"u8),
    };

    public static IpcHistoryResult ReadHistory(JsonElement data) => new()
    {
        Records = Objects(data, "records"u8, item => new IpcHistoryRecord
        {
            Commit = String(item, "commit"u8) ?? "",
            Author = String(item, "author"u8),
            Subject = String(item, "subject"u8),
            Received = Time(item, "received"u8) ?? default,
            Applied = Time(item, "applied"u8),
            Result = String(item, "result"u8) ?? "",
            Started = Strings(item, "started"u8),
            Restarted = Strings(item, "restarted"u8),
            Stopped = Strings(item, "stopped"u8),
            Errors = Strings(item, "errors"u8),
            RollbackReason = String(item, "rollback_reason"u8),
            RestoredCommit = String(item, "restored_commit"u8),
            Fetched = Time(item, "fetched"u8),
            ReplacedCommit = String(item, "replaced_commit"u8),
        }),
    };

    private static List<T> Objects<T>(JsonElement obj, ReadOnlySpan<byte> name, Func<JsonElement, T> read) =>
        obj.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array
            ? [.. array.EnumerateArray().Where(item => item.ValueKind == JsonValueKind.Object).Select(read)]
            : [];

    public static IpcRollbackResult ReadRollback(JsonElement data) => new()
    {
        RestoredCommit = String(data, "restored_commit"u8) ?? "",
        Commit = String(data, "commit"u8) ?? "",
        Reloaded = Int(data, "reloaded"u8) ?? 0,
        Started = Strings(data, "started"u8),
        Restarted = Strings(data, "restarted"u8),
        Stopped = Strings(data, "stopped"u8),
    };

    private static string? String(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Int(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    private static long? Long(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    private static double? Double(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static string[] Strings(JsonElement obj, ReadOnlySpan<byte> name)
    {
        if (!obj.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var result = new string[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            result[i++] = item.GetString() ?? "";
        }

        return result;
    }
}
