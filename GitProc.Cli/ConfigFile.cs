using System.Text.Json;

namespace GitProc.Cli;

/// <summary>
/// Reads one setting from the <c>--config</c> JSON file without the configuration stack (the client path stays small
/// and fast): the key is looked up, case-insensitively, in the <c>GitProc</c> object when there is one, else at the top.
/// </summary>
internal static class ConfigFile
{
    private static readonly JsonDocumentOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static string? ReadValue(string path, string key)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), Options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GitProcException($"Cannot read the config file {path}: {ex.Message}", ex) { Code = GitProcErrorCodes.ConfigError };
        }
        catch (JsonException ex)
        {
            throw new GitProcException($"The config file {path} is not valid JSON: {ex.Message}", ex) { Code = GitProcErrorCodes.ConfigError };
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new GitProcException($"The config file {path} must hold a JSON object.") { Code = GitProcErrorCodes.ConfigError };
            }

            var section = Find(root, GitProcOptions.SectionName) is { ValueKind: JsonValueKind.Object } inner ? inner : root;
            return Find(section, key) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
        }
    }

    /// <summary>Whether the file keeps its settings under a <c>GitProc</c> object (else they are at the top level).</summary>
    public static bool HasSection(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path), Options);
        return document.RootElement.ValueKind == JsonValueKind.Object
            && Find(document.RootElement, GitProcOptions.SectionName) is { ValueKind: JsonValueKind.Object };
    }

    private static JsonElement? Find(JsonElement obj, string name)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }
}
