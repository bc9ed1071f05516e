using System.Diagnostics;
using System.Globalization;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.UnitFiles;

public class SystemdTimeSpanTests
{
    // Expected microseconds as printed by systemd 252's `systemd-analyze timespan`.
    [TestCase("5", 5_000_000L)]
    [TestCase("0", 0L)]
    [TestCase("1.5", 1_500_000L)]
    [TestCase("1.5s", 1_500_000L)]
    [TestCase(".5s", 500_000L)]
    [TestCase("+5", 5_000_000L)]
    [TestCase("1min30s", 90_000_000L)]
    [TestCase("1min 30s", 90_000_000L)]
    [TestCase("1min  30s", 90_000_000L)]
    [TestCase("1min30", 90_000_000L)]
    [TestCase("  10s  ", 10_000_000L)]
    [TestCase("1h 2m 3s 4ms 5us", 3_723_004_005L)]
    [TestCase("12.34 .56", 12_900_000L)]
    [TestCase("1 sec 2 sec", 3_000_000L)]
    [TestCase("1.123456789s", 1_123_456L)]
    [TestCase("100ms", 100_000L)]
    [TestCase("100msec", 100_000L)]
    [TestCase("7us", 7L)]
    [TestCase("7usec", 7L)]
    [TestCase("7µs", 7L)]
    [TestCase("7μs", 7L)]
    [TestCase("2seconds", 2_000_000L)]
    [TestCase("2second", 2_000_000L)]
    [TestCase("2sec", 2_000_000L)]
    [TestCase("3minutes", 180_000_000L)]
    [TestCase("3minute", 180_000_000L)]
    [TestCase("3min", 180_000_000L)]
    [TestCase("3m", 180_000_000L)]
    [TestCase("1hours", 3_600_000_000L)]
    [TestCase("1hour", 3_600_000_000L)]
    [TestCase("1hr", 3_600_000_000L)]
    [TestCase("1h", 3_600_000_000L)]
    [TestCase("1days", 86_400_000_000L)]
    [TestCase("1day", 86_400_000_000L)]
    [TestCase("1d", 86_400_000_000L)]
    [TestCase("1weeks", 604_800_000_000L)]
    [TestCase("1week", 604_800_000_000L)]
    [TestCase("1w", 604_800_000_000L)]
    [TestCase("2 M", 5_259_600_000_000L)]
    [TestCase("1month", 2_629_800_000_000L)]
    [TestCase("1months", 2_629_800_000_000L)]
    [TestCase("1y", 31_557_600_000_000L)]
    [TestCase("1year", 31_557_600_000_000L)]
    [TestCase("1years", 31_557_600_000_000L)]
    public void Parses_like_systemd(string text, long microseconds)
    {
        Assert.That(SystemdTimeSpan.TryParse(text, out var value, out var infinite, out var error), Is.True, error);
        Assert.That(infinite, Is.False);
        Assert.That(value, Is.EqualTo(TimeSpan.FromMicroseconds(microseconds)));
    }

    [TestCase("infinity")]
    [TestCase(" infinity ")]
    public void Infinity_is_reported_as_such(string text)
    {
        Assert.That(SystemdTimeSpan.TryParse(text, out _, out var infinite, out _), Is.True);
        Assert.That(infinite, Is.True);
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("5 parsecs")]
    [TestCase("5.")]
    [TestCase("3.sec")]
    [TestCase("12.34.56")]
    [TestCase("5 s x")]
    [TestCase("infinityx")]
    [TestCase("infinity 5")]
    [TestCase("1e3")]
    [TestCase("0x10")]
    [TestCase("1,5s")]
    [TestCase("1 MIN")]
    [TestCase("abc")]
    [TestCase("+.5")]
    [TestCase("s")]
    [TestCase("Infinity")]
    public void Refuses_what_systemd_refuses(string text)
    {
        Assert.That(SystemdTimeSpan.TryParse(text, out _, out _, out var error), Is.False);
        Assert.That(error, Does.StartWith("is not a time span").And.Contains("5min"));
    }

    [TestCase("-1")]
    [TestCase("-0")]
    [TestCase("5s -1s")]
    public void Refuses_negative_spans(string text)
    {
        Assert.That(SystemdTimeSpan.TryParse(text, out _, out _, out var error), Is.False);
        Assert.That(error, Does.Contain("negative"));
    }

    [TestCase("99999999999999999999")]
    [TestCase("18446744073709551615us")]
    [TestCase("600000y")]
    [TestCase("300000y 300000y")]
    public void Refuses_spans_too_large_for_a_TimeSpan(string text)
    {
        Assert.That(SystemdTimeSpan.TryParse(text, out _, out _, out var error), Is.False);
        Assert.That(error, Does.Contain("too large"));
    }

    [TestCase(0L, "0")]
    [TestCase(30_000_000L, "30s")]
    [TestCase(90_000_000L, "1min 30s")]
    [TestCase(500_000L, "500ms")]
    [TestCase(1_500_000L, "1s 500ms")]
    [TestCase(3_723_004_005L, "1h 2min 3s 4ms 5us")]
    [TestCase(777_600_000_000L, "1w 2d")]
    public void Formats_in_systemd_units_that_parse_back(long microseconds, string text)
    {
        var span = TimeSpan.FromMicroseconds(microseconds);
        Assert.That(SystemdTimeSpan.Format(span), Is.EqualTo(text));
        Assert.That(SystemdTimeSpan.TryParse(text, out var back, out _, out _), Is.True);
        Assert.That(back, Is.EqualTo(span));
    }

    [Test]
    public void A_bare_number_uses_the_default_unit()
    {
        Assert.That(SystemdTimeSpan.TryParse("250", 1_000UL, out var value, out _, out _), Is.True);
        Assert.That(value, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
    }

    [Test]
    [Platform(Include = "Linux")]
    public void Agrees_with_systemd_analyze_timespan_where_it_is_installed()
    {
        var tool = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);
        if (tool is null)
        {
            Assert.Ignore("systemd-analyze is not installed, so there is no systemd to compare with.");
        }

        string[] inputs =
        [
            "5", "1.5", ".5s", "1min30s", "1min 30s", "1h 2m 3s 4ms 5us", "12.34 .56", "2 M", "1y", "3w 2d",
            "5 parsecs", "5.", "12.34.56", "1e3", "1 MIN", "infinity", "1.123456789s", "7µs", "0", "1,5s",
        ];
        foreach (var input in inputs)
        {
            var systemd = RunSystemdAnalyze(tool, input);
            var ours = SystemdTimeSpan.TryParseMicroseconds(input, 1_000_000UL, out var microseconds);
            if (systemd is null)
            {
                Assert.That(ours, Is.Not.EqualTo(SystemdTimeSpan.Status.Ok), $"systemd refuses '{input}' but we accept it");
            }
            else
            {
                Assert.That(ours, Is.EqualTo(SystemdTimeSpan.Status.Ok), $"systemd accepts '{input}' but we refuse it");
                Assert.That(microseconds, Is.EqualTo(systemd.Value), $"'{input}'");
            }
        }
    }

    private static ulong? RunSystemdAnalyze(string tool, string input)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("timespan");
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(input);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            Assert.Fail("systemd-analyze did not finish");
        }

        if (process.ExitCode != 0)
        {
            return null;
        }

        var line = output.Split('\n').Single(l => l.TrimStart().StartsWith("μs:", StringComparison.Ordinal));
        return ulong.Parse(line.Trim()["μs:".Length..].Trim(), CultureInfo.InvariantCulture);
    }
}
