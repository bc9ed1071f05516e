using System.Globalization;
using System.Text.RegularExpressions;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>
/// The log of a service printing <c>n=1</c>, <c>n=2</c>, …: a lost, repeated or torn line shows as a gap, a repeat or a
/// line of another shape.
/// </summary>
internal static partial class CounterLog
{
    /// <summary>A unit whose service prints the counter, one line every <paramref name="interval"/> seconds.</summary>
    public static string Unit(string interval = "0.005", string extra = "") => $"""
        [Service]
        ExecStart=/bin/sh -c 'n=0; while :; do n=$((n+1)); echo "n=$n"; sleep {interval}; done'
        {extra}

        """;

    /// <summary>Every counter value in the log file, in file order; fails on a line that is not a whole counter line.</summary>
    public static List<int> Values(string path)
    {
        var values = new List<int>();
        foreach (var line in File.Exists(path) ? File.ReadLines(path) : [])
        {
            var match = Line().Match(line);
            Assert.That(match.Success, Is.True, $"a torn or foreign line in {path}: '{line}'");
            values.Add(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        return values;
    }

    /// <summary>Fails unless the values are 1, 2, … with none lost, repeated or out of order.</summary>
    public static void AssertComplete(List<int> values) =>
        Assert.That(values, Is.EqualTo(Enumerable.Range(1, values.Count)), "every line of the counter, once and in order");

    [GeneratedRegex(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] n=(\d+)$")]
    private static partial Regex Line();
}
