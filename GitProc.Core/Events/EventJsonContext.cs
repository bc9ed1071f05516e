using System.Text.Json.Serialization;

namespace GitProc.Events;

/// <summary>Source-generated (AOT-safe) serialization of events, with the protocol's snake_case keys.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(GitProcEvent))]
internal sealed partial class EventJsonContext : JsonSerializerContext;
