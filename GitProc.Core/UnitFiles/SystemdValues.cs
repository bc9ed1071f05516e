using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace GitProc.UnitFiles;

/// <summary>Sizes, percentages, counts and signals as systemd writes them in unit files.</summary>
internal static class SystemdValues
{
    // systemd's parse_size() with base 1024: components must come in decreasing order ("1G 512M"), "" last.
    private static readonly (string Suffix, ulong Factor)[] SizeSuffixes =
    [
        ("E", 1UL << 60),
        ("P", 1UL << 50),
        ("T", 1UL << 40),
        ("G", 1UL << 30),
        ("M", 1UL << 20),
        ("K", 1UL << 10),
        ("B", 1UL),
        (string.Empty, 1UL),
    ];

    /// <summary>
    /// Parses a size in bytes as systemd's <c>parse_size(…, 1024)</c>: <c>512</c>, <c>512K</c>, <c>1.5G</c>,
    /// <c>1G 512M</c>; suffixes K, M, G, T, P, E (base 1024) and B, upper case.
    /// </summary>
    internal static bool TryParseBytes(ReadOnlySpan<char> text, out long bytes)
    {
        bytes = 0;
        ulong total = 0;
        var start = 0;
        var p = 0;
        do
        {
            while (p < text.Length && SystemdText.IsWhitespace(text[p]))
            {
                p++;
            }

            var digitsStart = p;
            ulong whole = 0;
            while (p < text.Length && char.IsAsciiDigit(text[p]))
            {
                if (whole > (ulong.MaxValue - 9) / 10)
                {
                    return false;
                }

                whole = (whole * 10) + (ulong)(text[p] - '0');
                p++;
            }

            if (p == digitsStart)
            {
                return false;
            }

            double fraction = 0;
            if (p < text.Length && text[p] == '.')
            {
                p++;
                var scale = 1.0;
                while (p < text.Length && char.IsAsciiDigit(text[p]))
                {
                    scale /= 10;
                    fraction += (text[p] - '0') * scale;
                    p++;
                }
            }

            while (p < text.Length && SystemdText.IsWhitespace(text[p]))
            {
                p++;
            }

            var i = start;
            for (; i < SizeSuffixes.Length; i++)
            {
                if (text[p..].StartsWith(SizeSuffixes[i].Suffix, StringComparison.Ordinal))
                {
                    break;
                }
            }

            if (i == SizeSuffixes.Length)
            {
                // Every suffix was used up by earlier components: "5 0" (a bare number is the smallest, so nothing follows it).
                return false;
            }

            var factor = SizeSuffixes[i].Factor;
            if (whole + (fraction > 0 ? 1UL : 0UL) > ulong.MaxValue / factor)
            {
                return false;
            }

            var component = (whole * factor) + (ulong)(fraction * factor);
            if (component > ulong.MaxValue - total)
            {
                return false;
            }

            total += component;
            p += SizeSuffixes[i].Suffix.Length;
            start = i + 1;
        }
        while (p < text.Length);

        if (total > long.MaxValue)
        {
            return false;
        }

        bytes = (long)total;
        return true;
    }

    /// <summary>
    /// Parses <c>N%</c> or <c>N.D%</c> (systemd's <c>parse_permyriad()</c> for the <c>%</c> form) into basis points
    /// (hundredths of a percent), refusing more than two decimals.
    /// </summary>
    internal static bool TryParsePercentBasisPoints(ReadOnlySpan<char> text, out long basisPoints)
    {
        basisPoints = 0;
        if (text.Length < 2 || text[^1] != '%')
        {
            return false;
        }

        var number = text[..^1];
        var dot = number.IndexOf('.');
        var whole = dot < 0 ? number : number[..dot];
        var fraction = dot < 0 ? [] : number[(dot + 1)..];
        if (whole.Length == 0 || fraction.Length > 2 || (dot >= 0 && fraction.Length == 0)
            || !IsAllDigits(whole) || !IsAllDigits(fraction) || whole.Length > 12)
        {
            return false;
        }

        basisPoints = long.Parse(whole, NumberStyles.None, CultureInfo.InvariantCulture) * 100;
        for (var i = 0; i < 2; i++)
        {
            basisPoints += (i < fraction.Length ? fraction[i] - '0' : 0) * (i == 0 ? 10 : 1);
        }

        return true;
    }

    /// <summary>A non-negative decimal integer (digits only, as systemd's <c>safe_atou()</c> in practice).</summary>
    internal static bool TryParseNonNegative(ReadOnlySpan<char> text, long max, out long value)
    {
        value = 0;
        if (text.Length == 0 || !IsAllDigits(text))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (value > (max - (c - '0')) / 10)
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    /// <summary>
    /// systemd's <c>signal_from_string()</c>: <c>SIGTERM</c>, <c>TERM</c>, a number from 1 to 64, or
    /// <c>SIGRTMIN+N</c> / <c>SIGRTMAX-N</c>. Numbers are those of x86 and ARM Linux.
    /// </summary>
    internal static bool TryParseSignal(string text, [NotNullWhen(true)] out int? signal)
    {
        signal = null;
        if (TryParseNonNegative(text, 1000, out var number))
        {
            if (number is >= 1 and <= SignalNames.Max)
            {
                signal = (int)number;
                return true;
            }

            return false;
        }

        var name = text.StartsWith("SIG", StringComparison.Ordinal) ? text[3..] : text;
        signal = SignalNames.FromName(name);
        return signal is not null;
    }

    /// <summary>systemd's <c>parse_boolean()</c>: <c>1</c>, <c>yes</c>, <c>y</c>, <c>true</c>, <c>t</c>, <c>on</c> and their opposites, in any case.</summary>
    internal static bool TryParseBoolean(string text, out bool value)
    {
        switch (text.ToLowerInvariant())
        {
            case "1" or "yes" or "y" or "true" or "t" or "on":
                value = true;
                return true;
            case "0" or "no" or "n" or "false" or "f" or "off":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    private static bool IsAllDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
