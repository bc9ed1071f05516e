using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace GitProc.UnitFiles;

/// <summary>
/// Time spans as systemd.time(7) writes them, parsed the way systemd's <c>parse_time()</c> does: a sequence of
/// numbers, each with an optional unit (<c>1min 30s</c>, <c>1min30s</c>, <c>1.5s</c>, <c>.5s</c>), a bare number
/// being in the default unit (seconds for every <c>*Sec</c> key), and <c>infinity</c> on its own.
/// </summary>
internal static class SystemdTimeSpan
{
    private const ulong MicrosecondsPerSecond = 1_000_000UL;
    private const ulong MicrosecondsPerMinute = 60 * MicrosecondsPerSecond;
    private const ulong MicrosecondsPerHour = 60 * MicrosecondsPerMinute;
    private const ulong MicrosecondsPerDay = 24 * MicrosecondsPerHour;
    private const ulong MicrosecondsPerWeek = 7 * MicrosecondsPerDay;

    // systemd's USEC_PER_MONTH (30.44 days) and USEC_PER_YEAR (365.25 days).
    private const ulong MicrosecondsPerMonth = 2_629_800UL * MicrosecondsPerSecond;
    private const ulong MicrosecondsPerYear = 31_557_600UL * MicrosecondsPerSecond;

    // TimeSpan counts 100 ns ticks, so this is the largest span a TimeSpan can hold.
    private const ulong MaxMicroseconds = (ulong)(long.MaxValue / TimeSpan.TicksPerMicrosecond);

    internal const string Syntax = "write a number of seconds, or numbers with units such as 500ms, 30s, 5min, 1h, 2d or '1min 30s' (systemd.time(7))";

    // Order matters exactly as in systemd: the first suffix the text starts with wins ("min" before "m",
    // "months" and "msec" before "m", "M" for months is upper case).
    private static readonly (string Suffix, ulong Microseconds)[] Units =
    [
        ("seconds", MicrosecondsPerSecond),
        ("second", MicrosecondsPerSecond),
        ("sec", MicrosecondsPerSecond),
        ("s", MicrosecondsPerSecond),
        ("minutes", MicrosecondsPerMinute),
        ("minute", MicrosecondsPerMinute),
        ("min", MicrosecondsPerMinute),
        ("months", MicrosecondsPerMonth),
        ("month", MicrosecondsPerMonth),
        ("M", MicrosecondsPerMonth),
        ("msec", 1_000UL),
        ("ms", 1_000UL),
        ("m", MicrosecondsPerMinute),
        ("hours", MicrosecondsPerHour),
        ("hour", MicrosecondsPerHour),
        ("hr", MicrosecondsPerHour),
        ("h", MicrosecondsPerHour),
        ("days", MicrosecondsPerDay),
        ("day", MicrosecondsPerDay),
        ("d", MicrosecondsPerDay),
        ("weeks", MicrosecondsPerWeek),
        ("week", MicrosecondsPerWeek),
        ("w", MicrosecondsPerWeek),
        ("years", MicrosecondsPerYear),
        ("year", MicrosecondsPerYear),
        ("y", MicrosecondsPerYear),
        ("usec", 1UL),
        ("us", 1UL),
        ("\u03bcs", 1UL), // GREEK SMALL LETTER MU
        ("\u00b5s", 1UL), // MICRO SIGN
    ];

    // Largest first, as systemd's format_timespan() writes them; months and years are left out because their
    // fractional days (30.44, 365.25) would turn a round number of days into hours and minutes.
    private static readonly (string Suffix, ulong Microseconds)[] FormatUnits =
    [
        ("w", MicrosecondsPerWeek),
        ("d", MicrosecondsPerDay),
        ("h", MicrosecondsPerHour),
        ("min", MicrosecondsPerMinute),
        ("s", MicrosecondsPerSecond),
        ("ms", 1_000UL),
        ("us", 1UL),
    ];

    /// <summary>Parses a time span whose bare numbers are seconds.</summary>
    /// <param name="text">The value as written.</param>
    /// <param name="value">The span; meaningless when <paramref name="isInfinity"/> is set.</param>
    /// <param name="isInfinity">The value was <c>infinity</c>.</param>
    /// <param name="error">Why the value is not a time span, as a sentence.</param>
    /// <returns>Whether the value parsed.</returns>
    internal static bool TryParse(ReadOnlySpan<char> text, out TimeSpan value, out bool isInfinity, [NotNullWhen(false)] out string? error)
        => TryParse(text, MicrosecondsPerSecond, out value, out isInfinity, out error);

    /// <summary>Parses a time span whose bare numbers are in <paramref name="defaultUnitMicroseconds"/>.</summary>
    internal static bool TryParse(
        ReadOnlySpan<char> text,
        ulong defaultUnitMicroseconds,
        out TimeSpan value,
        out bool isInfinity,
        [NotNullWhen(false)] out string? error)
    {
        value = TimeSpan.Zero;
        isInfinity = false;
        var status = TryParseMicroseconds(text, defaultUnitMicroseconds, out var microseconds);
        switch (status)
        {
            case Status.Ok when microseconds == ulong.MaxValue:
                isInfinity = true;
                error = null;
                return true;
            case Status.Ok when microseconds > MaxMicroseconds:
                error = "is too large for a time span";
                return false;
            case Status.Ok:
                value = TimeSpan.FromTicks((long)microseconds * TimeSpan.TicksPerMicrosecond);
                error = null;
                return true;
            case Status.Negative:
                error = "is negative; a time span must be zero or more";
                return false;
            case Status.OutOfRange:
                error = "is too large for a time span";
                return false;
            default:
                error = $"is not a time span: {Syntax}";
                return false;
        }
    }

    /// <summary>
    /// Writes a span in systemd.time(7) units, largest first (<c>30s</c>, <c>1min 30s</c>, <c>1s 500ms</c>; <c>0</c> for
    /// zero), so a message shows it the way a unit file would say it and <see cref="TryParse(ReadOnlySpan{char}, out TimeSpan, out bool, out string?)"/>
    /// reads it back. Below a microsecond is dropped.
    /// </summary>
    internal static string Format(TimeSpan span)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(span, TimeSpan.Zero);
        var microseconds = (ulong)(span.Ticks / TimeSpan.TicksPerMicrosecond);
        if (microseconds == 0)
        {
            return "0";
        }

        var text = new StringBuilder();
        foreach (var (suffix, size) in FormatUnits)
        {
            if (microseconds >= size)
            {
                if (text.Length > 0)
                {
                    text.Append(' ');
                }

                text.Append(CultureInfo.InvariantCulture, $"{microseconds / size}{suffix}");
                microseconds %= size;
            }
        }

        return text.ToString();
    }

    /// <summary>The core of systemd's <c>parse_time()</c>: microseconds, <see cref="ulong.MaxValue"/> for infinity.</summary>
    internal static Status TryParseMicroseconds(ReadOnlySpan<char> text, ulong defaultUnitMicroseconds, out ulong microseconds)
    {
        microseconds = 0;
        var p = SkipWhitespace(text, 0);
        if (text[p..].StartsWith("infinity", StringComparison.Ordinal))
        {
            if (SkipWhitespace(text, p + "infinity".Length) != text.Length)
            {
                return Status.Invalid;
            }

            microseconds = ulong.MaxValue;
            return Status.Ok;
        }

        ulong total = 0;
        var something = false;
        while (true)
        {
            p = SkipWhitespace(text, p);
            if (p == text.Length)
            {
                if (!something)
                {
                    return Status.Invalid;
                }

                break;
            }

            if (text[p] == '-')
            {
                return Status.Negative;
            }

            // strtoll(): an optional '+', then digits. ".5" parses as 0 followed by a fraction, "+.5" does not.
            var numberStart = p;
            var q = p;
            if (text[q] == '+')
            {
                q++;
            }

            var digitsStart = q;
            ulong whole = 0;
            while (q < text.Length && char.IsAsciiDigit(text[q]))
            {
                if (whole > (ulong.MaxValue - 9) / 10)
                {
                    return Status.OutOfRange;
                }

                whole = (whole * 10) + (ulong)(text[q] - '0');
                q++;
            }

            int e; // systemd's "e": the end of the integer part
            if (q == digitsStart)
            {
                if (q == numberStart && q < text.Length && text[q] == '.')
                {
                    e = q;
                }
                else
                {
                    return Status.Invalid;
                }
            }
            else
            {
                e = q;
            }

            var hasFraction = e < text.Length && text[e] == '.';
            if (hasFraction)
            {
                p = e + 1;
                while (p < text.Length && char.IsAsciiDigit(text[p]))
                {
                    p++;
                }
            }
            else
            {
                p = e;
            }

            var afterSpace = SkipWhitespace(text, p);
            var multiplier = defaultUnitMicroseconds;
            var s = afterSpace;
            foreach (var (suffix, unit) in Units)
            {
                if (text[afterSpace..].StartsWith(suffix, StringComparison.Ordinal))
                {
                    multiplier = unit;
                    s = afterSpace + suffix.Length;
                    break;
                }
            }

            // "12.34.56" is refused; "12.34 .56" and "12.34s.56" are two numbers.
            if (s == p && s < text.Length)
            {
                return Status.Invalid;
            }

            p = s;
            if (whole >= ulong.MaxValue / multiplier)
            {
                return Status.OutOfRange;
            }

            var k = whole * multiplier;
            if (k >= ulong.MaxValue - total)
            {
                return Status.OutOfRange;
            }

            total += k;
            something = true;

            if (hasFraction)
            {
                var m = multiplier / 10;
                var b = e + 1;
                for (; b < text.Length && char.IsAsciiDigit(text[b]); b++, m /= 10)
                {
                    k = (ulong)(text[b] - '0') * m;
                    if (k >= ulong.MaxValue - total)
                    {
                        return Status.OutOfRange;
                    }

                    total += k;
                }

                // "3.", "3.sec" and "3. 1" are refused.
                if (b == e + 1)
                {
                    return Status.Invalid;
                }
            }
        }

        microseconds = total;
        return Status.Ok;
    }

    private static int SkipWhitespace(ReadOnlySpan<char> text, int position)
    {
        while (position < text.Length && SystemdText.IsWhitespace(text[position]))
        {
            position++;
        }

        return position;
    }

    /// <summary>The outcome of <see cref="TryParseMicroseconds"/>.</summary>
    internal enum Status
    {
        /// <summary>Parsed.</summary>
        Ok,

        /// <summary>Not a time span.</summary>
        Invalid,

        /// <summary>A negative number.</summary>
        Negative,

        /// <summary>Too large.</summary>
        OutOfRange,
    }
}
