using System.Text.Json.Serialization;

namespace GitProc.Ipc;

/// <summary>
/// Source-generated (reflection-free, trimming- and AOT-safe) serialization of the protocol, with the contract's
/// snake_case keys.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(IpcRequest))]
[JsonSerializable(typeof(IpcResponse))]
[JsonSerializable(typeof(IpcStartResult))]
[JsonSerializable(typeof(IpcStopResult))]
[JsonSerializable(typeof(IpcReexecResult))]
[JsonSerializable(typeof(IpcPlanResult))]
[JsonSerializable(typeof(IpcHistoryResult))]
[JsonSerializable(typeof(IpcStatusResult))]
[JsonSerializable(typeof(IpcListResult))]
[JsonSerializable(typeof(IpcLogsResult))]
[JsonSerializable(typeof(IpcSyncResult))]
[JsonSerializable(typeof(IpcRollbackResult))]
[JsonSerializable(typeof(IpcSubscribeResult))]
internal sealed partial class IpcJsonContext : JsonSerializerContext;
