using System.Globalization;
using System.Text;

namespace GitProc.Metrics;

/// <summary>
/// The Prometheus text exposition format, version 0.0.4: metric names made from instrument names and units the way
/// OpenTelemetry's Prometheus exporters make them (so an embedding application exporting the <c>GitProc</c> meter gets
/// the daemon's names), escaping and numbers.
/// </summary>
internal static class PrometheusText
{
    /// <summary>The <c>Content-Type</c> of a scrape's answer.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>
    /// The metric name of an instrument: characters outside <c>[a-zA-Z0-9_:]</c> become <c>_</c>, the unit is appended
    /// as a word (<c>s</c> → <c>_seconds</c>, <c>By</c> → <c>_bytes</c>; an annotation such as <c>{restart}</c> adds
    /// nothing) unless the name already ends with it, and counters end with <c>_total</c>.
    /// </summary>
    public static string MetricName(string instrumentName, string? unit, bool counter)
    {
        var name = new StringBuilder(instrumentName.Length + 16);
        foreach (var c in instrumentName)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        }

        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            name.Insert(0, '_');
        }

        if (UnitWord(unit) is { } word && !name.ToString().EndsWith("_" + word, StringComparison.Ordinal))
        {
            name.Append('_').Append(word);
        }

        if (counter && !name.ToString().EndsWith("_total", StringComparison.Ordinal))
        {
            name.Append("_total");
        }

        return name.ToString();
    }

    /// <summary>The word a UCUM unit adds to a metric name; <see langword="null"/> for none or an annotation.</summary>
    private static string? UnitWord(string? unit) => unit switch
    {
        null or "" or "1" => null,
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        _ when unit.StartsWith('{') => null,
        _ => SanitizeWord(unit),
    };

    private static string SanitizeWord(string unit)
    {
        var word = new StringBuilder(unit.Length);
        foreach (var c in unit)
        {
            word.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_');
        }

        return word.ToString();
    }

    /// <summary>A label name: characters outside <c>[a-zA-Z0-9_]</c> become <c>_</c> (a valid name is returned as it is).</summary>
    public static string LabelName(string key)
    {
        if (key.Length > 0 && !char.IsAsciiDigit(key[0]) && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            return key;
        }

        var name = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            name.Insert(0, '_');
        }

        return name.ToString();
    }

    /// <summary>Appends a label value between quotes, with <c>\</c>, <c>"</c> and line feeds escaped.</summary>
    public static void AppendLabelValue(StringBuilder output, string value)
    {
        output.Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => output.Append(@"\\"),
                '"' => output.Append("\\\""),
                '\n' => output.Append(@"\n"),
                _ => output.Append(c),
            };
        }

        output.Append('"');
    }

    /// <summary>Appends a <c># HELP</c> text, with <c>\</c> and line feeds escaped.</summary>
    public static void AppendHelp(StringBuilder output, string text)
    {
        foreach (var c in text)
        {
            _ = c switch
            {
                '\\' => output.Append(@"\\"),
                '\n' => output.Append(@"\n"),
                _ => output.Append(c),
            };
        }
    }

    /// <summary>Appends a sample value: the shortest text that reads back as the same double, or <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>.</summary>
    public static void AppendValue(StringBuilder output, double value) =>
        output.Append(
            double.IsPositiveInfinity(value) ? "+Inf"
            : double.IsNegativeInfinity(value) ? "-Inf"
            : double.IsNaN(value) ? "NaN"
            : value.ToString("R", CultureInfo.InvariantCulture));
}
