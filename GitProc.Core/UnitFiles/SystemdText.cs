using System.Globalization;
using System.Text;

namespace GitProc.UnitFiles;

/// <summary>Small character rules shared by the unit-file parsers, as systemd defines them.</summary>
internal static class SystemdText
{
    /// <summary>systemd's WHITESPACE: only these four separate words and are trimmed; other Unicode spaces are text.</summary>
    internal const string Whitespace = " \t\n\r";

    internal static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r';

    internal static ReadOnlySpan<char> Trim(ReadOnlySpan<char> text) => text.Trim(Whitespace);

    /// <summary>systemd's <c>string_is_safe()</c>: no control characters, quotes or backslashes.</summary>
    internal static bool IsSafe(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c < ' ' || c == '\x7f' || c is '\\' or '"' or '\'')
            {
                return false;
            }
        }

        return true;
    }

    internal static bool HasControlCharacter(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Control, format (zero-width, byte order mark) and line-separator characters, which a message must not show raw.</summary>
    internal static bool IsInvisible(char c) => char.IsControl(c)
        || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>
    /// Renders a value for a one-line message: control characters escaped, long values shortened, so that an
    /// error about a hostile or binary value still prints as one readable line.
    /// </summary>
    internal static string ForMessage(string value, int maxLength = 200)
    {
        var needsWork = value.Length > maxLength;
        if (!needsWork)
        {
            foreach (var c in value)
            {
                if (IsInvisible(c) || char.IsSurrogate(c))
                {
                    needsWork = true;
                    break;
                }
            }
        }

        if (!needsWork)
        {
            return value;
        }

        var builder = new StringBuilder(Math.Min(value.Length, maxLength) + 8);
        var i = 0;
        for (; i < value.Length && builder.Length < maxLength; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                builder.Append(c).Append(value[++i]);
                continue;
            }

            switch (c)
            {
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                default:
                    if (IsInvisible(c) || char.IsSurrogate(c))
                    {
                        builder.Append(c <= 0xff ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        if (i < value.Length)
        {
            builder.Append('…');
        }

        return builder.ToString();
    }
}
