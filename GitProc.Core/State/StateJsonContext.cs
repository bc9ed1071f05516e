using System.Text.Json.Serialization;

namespace GitProc.State;

/// <summary>
/// Source-generated JSON for the state file: snake_case names, indented, statuses as lowercase words, and nulls
/// or missing constructor arguments where the types forbid them rejected (so a damaged file is recognised).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    Converters = [typeof(ServiceStatusJsonConverter)])]
[JsonSerializable(typeof(StateDocument))]
internal sealed partial class StateJsonContext : JsonSerializerContext
{
}
