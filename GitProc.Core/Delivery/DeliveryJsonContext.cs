using System.Text.Json.Serialization;

namespace GitProc.Delivery;

/// <summary>The history file's JSON: snake_case names, results as words (<c>rolled_back</c>), indented.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    UseStringEnumConverter = true,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(List<DeliveryRecord>))]
internal sealed partial class DeliveryJsonContext : JsonSerializerContext
{
}
