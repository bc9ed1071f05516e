using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>--json</c> output (<c>docs/json.md</c>): the daemon's data object exactly as it sent it, the CLI's own objects, and
/// the error object <c>{"error": {"code", "message"}}</c>; each one line.
/// </summary>
internal static class JsonOutput
{
    // As the daemon's IPC writes: quotes, apostrophes and non-ASCII text stay readable (this is not HTML).
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Sends the request and prints the data object of its answer; exit 0, or what <paramref name="exitCode"/> makes of
    /// the data (1 for a plan that would be rejected, say). An error answer is reported under the daemon's code.
    /// </summary>
    public static async Task<int> PrintAsync(
        CliContext context, GitProcClient client, IpcRequest request, CancellationToken cancellationToken, Func<JsonElement, int>? exitCode = null)
    {
        var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess)
        {
            return context.Fail(response.Code ?? GitProcErrorCodes.Failed, response.Error ?? "The daemon reported an error without a message.");
        }

        if (response.Data is not { ValueKind: JsonValueKind.Object } data)
        {
            return context.Fail(GitProcErrorCodes.Internal, "The daemon's response has no data object.");
        }

        context.Out.WriteLine(data.GetRawText());
        return exitCode?.Invoke(data) ?? ExitCodes.Success;
    }

    /// <summary>One JSON object on one line, written by <paramref name="write"/> between its braces.</summary>
    public static string Object(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The error object: <c>{"error": {"code": CODE, "message": MESSAGE}}</c>.</summary>
    public static string Error(string code, string message) => Object(writer =>
    {
        writer.WriteStartObject("error");
        writer.WriteString("code", code);
        writer.WriteString("message", message);
        writer.WriteEndObject();
    });

    /// <summary>Writes a list of strings as an array property.</summary>
    public static void WriteStrings(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}
