using System.Text;

namespace GitProc.Processes;

/// <summary>Specifier and environment-variable expansion in commands, as systemd does it.</summary>
internal static class CommandExpansion
{
    /// <summary>
    /// Expands the specifiers GitProc supports: <c>%n</c> (<c>NAME.service</c>), <c>%N</c> (name),
    /// <c>%i</c> (instance: text between <c>@</c> and the suffix, empty if none) and <c>%%</c>. Others are kept.
    /// </summary>
    public static string ExpandSpecifiers(string text, string serviceName)
    {
        if (!text.Contains('%', StringComparison.Ordinal))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '%' || i + 1 >= text.Length)
            {
                builder.Append(text[i]);
                continue;
            }

            switch (text[i + 1])
            {
                case 'n':
                    builder.Append(serviceName).Append(".service");
                    break;
                case 'N':
                    builder.Append(serviceName);
                    break;
                case 'i':
                    var at = serviceName.IndexOf('@', StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        builder.Append(serviceName, at + 1, serviceName.Length - at - 1);
                    }

                    break;
                case '%':
                    builder.Append('%');
                    break;
                default:
                    builder.Append('%').Append(text[i + 1]);
                    break;
            }

            i++;
        }

        return builder.ToString();
    }

    /// <summary>
    /// Expands variables in one argument and adds the result to <paramref name="argv"/>. A whole-word <c>$VAR</c>
    /// becomes the variable's value split at whitespace into words (none when unset or empty); <c>${VAR}</c>
    /// anywhere is replaced by the value as is, in the same word; <c>$$</c> is a literal <c>$</c>; an unset
    /// variable is empty; a <c>$</c> followed by anything else is kept (systemd only expands braceless names as
    /// whole words).
    /// </summary>
    public static void ExpandVariables(string argument, IReadOnlyDictionary<string, string> environment, List<string> argv)
    {
        if (!argument.Contains('$', StringComparison.Ordinal))
        {
            argv.Add(argument);
            return;
        }

        if (argument.Length > 1 && argument[0] == '$' && IsNameStart(argument[1]) && IsName(argument.AsSpan(1)))
        {
            if (environment.TryGetValue(argument[1..], out var value))
            {
                argv.AddRange(value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            }

            return;
        }

        var builder = new StringBuilder(argument.Length + 32);
        for (var i = 0; i < argument.Length; i++)
        {
            var c = argument[i];
            if (c == '$' && i + 1 < argument.Length)
            {
                if (argument[i + 1] == '$')
                {
                    builder.Append('$');
                    i++;
                    continue;
                }

                if (argument[i + 1] == '{')
                {
                    var close = argument.IndexOf('}', i + 2);
                    if (close > i + 2 && IsName(argument.AsSpan(i + 2, close - i - 2)))
                    {
                        if (environment.TryGetValue(argument[(i + 2)..close], out var value))
                        {
                            builder.Append(value);
                        }

                        i = close;
                        continue;
                    }
                }
            }

            builder.Append(c);
        }

        argv.Add(builder.ToString());
    }

    private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || !IsNameStart(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
