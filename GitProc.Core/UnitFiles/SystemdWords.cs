using System.Text;
using System.Text.Unicode;

namespace GitProc.UnitFiles;

/// <summary>
/// Splits a value into words exactly as systemd's <c>extract_first_word()</c> does with
/// <c>EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_UNESCAPE_RELAX</c> (the flags systemd uses for command lines
/// and <c>Environment=</c>): words are separated by spaces, tabs and newlines; double and single quotes group
/// (and may start or stop in the middle of a word, <c>a"b c"d</c> being one word); C escapes are decoded inside
/// and outside quotes; an unknown escape is kept as written (systemd warns and does the same).
/// </summary>
internal static class SystemdWords
{
    /// <summary>Extracts the next word.</summary>
    /// <param name="text">The value.</param>
    /// <param name="position">Where to start; moved past the word and the whitespace after it.</param>
    /// <param name="builder">A scratch buffer (cleared here).</param>
    /// <param name="word">The word, unquoted and unescaped.</param>
    /// <param name="error">Why the value cannot be split, when <see cref="WordStatus.Error"/>.</param>
    /// <param name="keptUnknownEscape">Set when an unknown escape sequence was kept verbatim.</param>
    /// <returns>Whether a word was found, the end was reached, or the text is malformed.</returns>
    internal static WordStatus Next(
        string text,
        ref int position,
        StringBuilder builder,
        out string word,
        out string? error,
        ref bool keptUnknownEscape)
    {
        word = string.Empty;
        error = null;
        var p = position;
        while (p < text.Length && SystemdText.IsWhitespace(text[p]))
        {
            p++;
        }

        if (p == text.Length)
        {
            position = p;
            return WordStatus.End;
        }

        builder.Clear();
        var bytes = new PendingBytes();
        var quote = '\0';
        var quoteStart = -1;
        while (true)
        {
            if (p == text.Length)
            {
                if (quote != '\0')
                {
                    error = $"has an unbalanced {(quote == '"' ? "double" : "single")} quote (opened at column {quoteStart + 1}); close it or escape it as \\{quote}";
                    position = p;
                    return WordStatus.Error;
                }

                break;
            }

            var c = text[p];
            if (c == '\\')
            {
                if (p + 1 == text.Length)
                {
                    if (quote != '\0')
                    {
                        error = $"has an unbalanced {(quote == '"' ? "double" : "single")} quote (opened at column {quoteStart + 1}); close it or escape it as \\{quote}";
                        position = p;
                        return WordStatus.Error;
                    }

                    // A trailing unquoted backslash is kept (EXTRACT_UNESCAPE_RELAX).
                    if (!bytes.Flush(builder, out error))
                    {
                        position = p;
                        return WordStatus.Error;
                    }

                    builder.Append('\\');
                    p++;
                    break;
                }

                var length = Unescape(text, p + 1, out var codePoint, out var eightBit);
                if (length > 0 && eightBit && codePoint >= 0x80)
                {
                    bytes.Add((byte)codePoint);
                    p += 1 + length;
                    continue;
                }

                if (!bytes.Flush(builder, out error))
                {
                    position = p;
                    return WordStatus.Error;
                }

                if (length > 0)
                {
                    AppendRune(builder, codePoint);
                    p += 1 + length;
                }
                else
                {
                    keptUnknownEscape = true;
                    builder.Append('\\').Append(text[p + 1]);
                    p += 2;
                }

                continue;
            }

            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else
                {
                    if (!bytes.Flush(builder, out error))
                    {
                        position = p;
                        return WordStatus.Error;
                    }

                    builder.Append(c);
                }

                p++;
                continue;
            }

            if (c is '"' or '\'')
            {
                quote = c;
                quoteStart = p;
                p++;
                continue;
            }

            if (SystemdText.IsWhitespace(c))
            {
                while (p < text.Length && SystemdText.IsWhitespace(text[p]))
                {
                    p++;
                }

                break;
            }

            if (!bytes.Flush(builder, out error))
            {
                position = p;
                return WordStatus.Error;
            }

            builder.Append(c);
            p++;
        }

        if (!bytes.Flush(builder, out error))
        {
            position = p;
            return WordStatus.Error;
        }

        position = p;
        word = builder.ToString();
        return WordStatus.Word;
    }

    /// <summary>Splits a whole value into words.</summary>
    /// <returns>The words, or <see langword="null"/> with <paramref name="error"/> set.</returns>
    internal static List<string>? Split(string text, out string? error, out bool keptUnknownEscape)
    {
        var words = new List<string>();
        var builder = new StringBuilder();
        var position = 0;
        keptUnknownEscape = false;
        while (true)
        {
            switch (Next(text, ref position, builder, out var word, out error, ref keptUnknownEscape))
            {
                case WordStatus.Word:
                    words.Add(word);
                    break;
                case WordStatus.End:
                    return words;
                default:
                    return null;
            }
        }
    }

    /// <summary>
    /// systemd's <c>cunescape_one()</c>: decodes the escape whose letter is at <paramref name="start"/> (just after
    /// the backslash). Returns the number of characters consumed after the backslash, or 0 when it is not a valid
    /// escape (which the caller keeps verbatim).
    /// </summary>
    internal static int Unescape(string text, int start, out int codePoint, out bool eightBit)
    {
        codePoint = 0;
        eightBit = false;
        var rest = text.AsSpan(start);
        switch (rest[0])
        {
            case 'a': codePoint = '\a'; return 1;
            case 'b': codePoint = '\b'; return 1;
            case 'f': codePoint = '\f'; return 1;
            case 'n': codePoint = '\n'; return 1;
            case 'r': codePoint = '\r'; return 1;
            case 't': codePoint = '\t'; return 1;
            case 'v': codePoint = '\v'; return 1;
            case '\\': codePoint = '\\'; return 1;
            case '"': codePoint = '"'; return 1;
            case '\'': codePoint = '\''; return 1;
            case 's': codePoint = ' '; return 1;
            case 'x':
                {
                    if (!TryHex(rest, 1, 2, out var value) || value == 0)
                    {
                        return 0;
                    }

                    codePoint = value;
                    eightBit = true;
                    return 3;
                }

            case 'u':
                {
                    // systemd does not check \u for surrogates; a .NET string cannot carry a lone one, so it stays verbatim.
                    if (!TryHex(rest, 1, 4, out var value) || value == 0 || (value >= 0xd800 && value <= 0xdfff))
                    {
                        return 0;
                    }

                    codePoint = value;
                    return 5;
                }

            case 'U':
                {
                    if (!TryHex(rest, 1, 8, out var value) || value == 0 || !Rune.IsValid(value))
                    {
                        return 0;
                    }

                    codePoint = value;
                    return 9;
                }

            case >= '0' and <= '7':
                {
                    if (rest.Length < 3 || !IsOctal(rest[1]) || !IsOctal(rest[2]))
                    {
                        return 0;
                    }

                    var value = ((rest[0] - '0') << 6) | ((rest[1] - '0') << 3) | (rest[2] - '0');
                    if (value == 0 || value > 255)
                    {
                        return 0;
                    }

                    codePoint = value;
                    eightBit = true;
                    return 3;
                }

            default:
                return 0;
        }
    }

    private static void AppendRune(StringBuilder builder, int codePoint)
    {
        Span<char> chars = stackalloc char[2];
        var written = new Rune(codePoint).EncodeToUtf16(chars);
        builder.Append(chars[..written]);
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';

    private static bool TryHex(ReadOnlySpan<char> text, int start, int count, out int value)
    {
        value = 0;
        if (text.Length < start + count)
        {
            return false;
        }

        for (var i = start; i < start + count; i++)
        {
            var digit = char.IsAsciiHexDigit(text[i]) ? Convert.ToInt32(text[i].ToString(), 16) : -1;
            if (digit < 0)
            {
                return false;
            }

            // Eight hex digits can exceed int; anything above the Unicode range is invalid anyway.
            if (value > 0x0fffffff)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        return true;
    }

    /// <summary>
    /// Bytes from <c>\xHH</c> and <c>\NNN</c> escapes at or above 0x80: systemd copies them as raw bytes, so a run of
    /// them is decoded as UTF-8 (<c>\xc3\xa9</c> is "é"); a run that is not valid UTF-8 cannot be represented.
    /// </summary>
    private struct PendingBytes
    {
        private byte[]? _bytes;
        private int _count;

        public void Add(byte value)
        {
            _bytes ??= new byte[8];
            if (_count == _bytes.Length)
            {
                Array.Resize(ref _bytes, _bytes.Length * 2);
            }

            _bytes[_count++] = value;
        }

        public bool Flush(StringBuilder builder, out string? error)
        {
            error = null;
            if (_count == 0)
            {
                return true;
            }

            var span = _bytes.AsSpan(0, _count);
            _count = 0;
            if (!Utf8.IsValid(span))
            {
                error = $"has escape sequences for the bytes {Convert.ToHexString(span)}, which are not valid UTF-8 text; write the character itself or escape it as \\uXXXX";
                return false;
            }

            builder.Append(Encoding.UTF8.GetString(span));
            return true;
        }
    }
}
