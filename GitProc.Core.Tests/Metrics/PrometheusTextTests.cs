using System.Text;
using GitProc.Metrics;

namespace GitProc.Core.Tests.Metrics;

public sealed class PrometheusTextTests
{
    [TestCase("gitproc.service.up", null, false, "gitproc_service_up")]
    [TestCase("gitproc.service.restarts", "{restart}", true, "gitproc_service_restarts_total")]
    [TestCase("gitproc.service.start.duration", "s", false, "gitproc_service_start_duration_seconds")]
    [TestCase("gitproc.service.cpu", "s", true, "gitproc_service_cpu_seconds_total")]
    [TestCase("gitproc.service.memory", "By", false, "gitproc_service_memory_bytes")]
    [TestCase("gitproc.commit.applied.info", null, false, "gitproc_commit_applied_info")]
    [TestCase("requests_total", "1", true, "requests_total")]
    [TestCase("wait_seconds", "s", false, "wait_seconds")]
    [TestCase("9lives-and/more", "ms", false, "_9lives_and_more_milliseconds")]
    public void Metric_names_follow_the_OpenTelemetry_Prometheus_conventions(string instrument, string? unit, bool counter, string expected) =>
        Assert.That(PrometheusText.MetricName(instrument, unit, counter), Is.EqualTo(expected));

    [Test]
    public void Label_values_escape_backslash_quote_and_line_feed()
    {
        var output = new StringBuilder();
        PrometheusText.AppendLabelValue(output, "a\\b\"c\nd é");
        Assert.That(output.ToString(), Is.EqualTo("\"a\\\\b\\\"c\\nd é\""));
    }

    [Test]
    public void Help_escapes_backslash_and_line_feed_but_not_quotes()
    {
        var output = new StringBuilder();
        PrometheusText.AppendHelp(output, "a \"b\"\\\nc");
        Assert.That(output.ToString(), Is.EqualTo("a \"b\"\\\\\\nc"));
    }

    [TestCase(0d, "0")]
    [TestCase(3d, "3")]
    [TestCase(0.1, "0.1")]
    [TestCase(1796092233.454, "1796092233.454")]
    [TestCase(1e-7, "1E-07")]
    [TestCase(double.PositiveInfinity, "+Inf")]
    [TestCase(double.NegativeInfinity, "-Inf")]
    [TestCase(double.NaN, "NaN")]
    public void Values_are_the_shortest_text_that_reads_back_the_same(double value, string expected)
    {
        var output = new StringBuilder();
        PrometheusText.AppendValue(output, value);
        Assert.That(output.ToString(), Is.EqualTo(expected));
        if (double.IsFinite(value))
        {
            Assert.That(double.Parse(output.ToString(), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(value));
        }
    }
}
