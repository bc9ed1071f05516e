using System.Text;

namespace GitProc.Processes;

/// <summary>Reads an <c>EnvironmentFile=</c> as systemd does.</summary>
internal static class EnvironmentFileReader
{
    /// <summary>
    /// Adds the assignments of <paramref name="content"/> to <paramref name="environment"/>: <c>KEY=VALUE</c> lines,
    /// blank lines and lines starting with <c>#</c> or <c>;</c> skipped, a trailing backslash continuing the line,
    /// whitespace around key and value trimmed, and one pair of matching quotes around the value removed (inside
    /// double quotes, <c>\"</c> and <c>\\</c> are unescaped). Lines without <c>=</c> are ignored, as systemd does.
    /// </summary>
    public static void Parse(string content, IDictionary<string, string> environment)
    {
        var logical = new StringBuilder();
        foreach (var rawLine in content.ReplaceLineEndings("\n").Split('\n'))
        {
            if (rawLine.EndsWith('\\'))
            {
                logical.Append(rawLine, 0, rawLine.Length - 1);
                continue;
            }

            logical.Append(rawLine);
            var line = logical.ToString().Trim();
            logical.Clear();
            AddLine(line, environment);
        }

        if (logical.Length > 0)
        {
            AddLine(logical.ToString().Trim(), environment);
        }
    }

    private static void AddLine(string line, IDictionary<string, string> environment)
    {
        if (line.Length == 0 || line[0] is '#' or ';')
        {
            return;
        }

        var equals = line.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            return;
        }

        var key = line[..equals].Trim();
        if (key.Length == 0)
        {
            return;
        }

        environment[key] = Unquote(line[(equals + 1)..].Trim());
    }

    private static string Unquote(string value)
    {
        if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
        {
            return value[1..^1];
        }

        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            var inner = value.AsSpan(1, value.Length - 2);
            if (!inner.Contains('\\'))
            {
                return inner.ToString();
            }

            var builder = new StringBuilder(inner.Length);
            for (var i = 0; i < inner.Length; i++)
            {
                if (inner[i] == '\\' && i + 1 < inner.Length && inner[i + 1] is '"' or '\\' or '$' or '`')
                {
                    i++;
                }

                builder.Append(inner[i]);
            }

            return builder.ToString();
        }

        return value;
    }
}
