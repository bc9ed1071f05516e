using System.Text.Json;
using System.Text.Json.Serialization;

namespace GitProc.State;

/// <summary>Writes <see cref="ServiceStatus"/> as the words users see (<c>running</c>, <c>stopped</c>, <c>failed</c>); numbers are refused.</summary>
internal sealed class ServiceStatusJsonConverter : JsonStringEnumConverter<ServiceStatus>
{
    public ServiceStatusJsonConverter()
        : base(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    {
    }
}
