namespace GitProc.UnitFiles;

/// <summary>
/// The values of <c>ConditionHost=</c>: a machine id, or a host name pattern with the shell's globs (<c>*</c>, <c>?</c>,
/// <c>[a-z]</c>, <c>[!0-9]</c>), matched ignoring case as systemd's <c>fnmatch(FNM_CASEFOLD)</c> does.
/// </summary>
/// <remarks>
/// systemd takes any string and matches it with fnmatch(3); a value that could never be a host name (a space, a comma, a
/// <c>%</c> specifier, an unclosed <c>[</c>) then silently matches nothing and the unit runs nowhere. Such a value is
/// refused here instead, so the pattern language is a host name's characters plus the globs, and the matcher only ever
/// sees patterns of that language (no escapes, no character classes such as <c>[:alpha:]</c>).
/// </remarks>
internal static class HostPattern
{
    /// <summary>
    /// systemd's <c>sd_id128_from_string()</c>: 32 hexadecimal digits, or the same with dashes as a UUID
    /// (8-4-4-4-12); the id in lower case without dashes, or <see langword="null"/>.
    /// </summary>
    public static string? ParseMachineId(string value)
    {
        var compact = value.Length == 36 && value[8] == '-' && value[13] == '-' && value[18] == '-' && value[23] == '-'
            ? value.Replace("-", "", StringComparison.Ordinal)
            : value;
        return compact.Length == 32 && compact.All(char.IsAsciiHexDigit) ? compact.ToLowerInvariant() : null;
    }

    /// <summary>Why <paramref name="pattern"/> is not a host name pattern, or <see langword="null"/> when it is one.</summary>
    public static string? Problem(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '[')
            {
                var close = pattern.IndexOf(']', i + 1);
                if (close < 0)
                {
                    return $"The '[' at position {i + 1} is not closed; write a set such as web-[12] or a range such as web-[0-9].";
                }

                var start = i + 1 < close && pattern[i + 1] is '!' or '^' ? i + 2 : i + 1;
                if (start == close)
                {
                    return $"The set at position {i + 1} is empty; write the characters it allows, such as [12] or [0-9].";
                }

                for (var j = start; j < close; j++)
                {
                    if (!IsNameCharacter(pattern[j]))
                    {
                        return Refuse(pattern[j]);
                    }
                }

                i = close;
            }
            else if (!IsNameCharacter(c) && c is not '*' and not '?')
            {
                return Refuse(c);
            }
        }

        return null;

        static string Refuse(char c) => c switch
        {
            ' ' or '\t' or ',' or ';' =>
                "The value holds more than one name; ConditionHost= takes one host name or pattern: write a glob (web-*), a set (web-[12]), or one ConditionHost=| line per host (the '|' makes any one of them enough).",
            '%' => "Specifiers such as %H are not expanded in ConditionHost=; write the host name or pattern itself.",
            ']' => "The ']' closes no '['; write a set such as web-[12].",
            _ => $"'{SystemdText.ForMessage(c.ToString())}' cannot be part of a host name; ConditionHost= takes a host name (letters, digits, '-', '.', '_', with the globs *, ? and [...]) or a machine id (32 hexadecimal digits).",
        };
    }

    /// <summary>fnmatch(3) with <c>FNM_CASEFOLD</c> of a pattern <see cref="Problem"/> accepts: <c>*</c> matches any run of characters (dots included).</summary>
    public static bool Matches(string pattern, string name)
    {
        // The classic greedy match with one backtrack point: the last '*' seen, and where in the name it was tried.
        int p = 0, n = 0, starP = -1, starN = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length)
            {
                var c = pattern[p];
                if (c == '*')
                {
                    starP = ++p;
                    starN = n;
                    continue;
                }

                if (c == '[' && pattern.IndexOf(']', p + 1) is var close and > 0)
                {
                    if (InSet(pattern.AsSpan(p + 1, close - p - 1), name[n]))
                    {
                        p = close + 1;
                        n++;
                        continue;
                    }
                }
                else if (c == '?' || Fold(c) == Fold(name[n]))
                {
                    p++;
                    n++;
                    continue;
                }
            }

            if (starP < 0)
            {
                return false;
            }

            p = starP;
            n = ++starN;
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static bool InSet(ReadOnlySpan<char> set, char c)
    {
        var negated = set.Length > 0 && set[0] is '!' or '^';
        if (negated)
        {
            set = set[1..];
        }

        var folded = Fold(c);
        var found = false;
        for (var i = 0; i < set.Length && !found; i++)
        {
            if (i + 2 < set.Length && set[i + 1] == '-')
            {
                found = Fold(set[i]) <= folded && folded <= Fold(set[i + 2]);
                i += 2;
            }
            else
            {
                found = Fold(set[i]) == folded;
            }
        }

        return found != negated;
    }

    private static char Fold(char c) => char.ToLowerInvariant(c);

    private static bool IsNameCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_';
}
