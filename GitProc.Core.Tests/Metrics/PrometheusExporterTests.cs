using System.Diagnostics.Metrics;
using System.Text;
using GitProc.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests.Metrics;

/// <summary>The exporter against real instruments made by a real <see cref="IMeterFactory"/>.</summary>
public sealed class PrometheusExporterTests
{
    private ServiceProvider _provider = null!;
    private IMeterFactory _factory = null!;
    private Meter _meter = null!;

    [SetUp]
    public void SetUp()
    {
        _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _factory = _provider.GetRequiredService<IMeterFactory>();
        _meter = _factory.Create(GitProcMetrics.MeterName);
    }

    [TearDown]
    public void TearDown()
    {
        // The container disposes the factory, which disposes the meter.
        _meter.Dispose();
        _factory.Dispose();
        _provider.Dispose();
    }

    private async Task<string> CollectAsync(PrometheusExporter exporter) => Encoding.UTF8.GetString(await exporter.CollectAsync());

    [Test]
    public async Task A_counter_sums_per_label_set_with_labels_sorted_by_name()
    {
        using var exporter = new PrometheusExporter(_factory);
        var exits = _meter.CreateCounter<long>("gitproc.service.exits", "{exit}", "Exits by reason.");
        exits.Add(1, new("service", "web"), new("reason", "signal"));
        exits.Add(2, new("reason", "signal"), new("service", "web"));
        exits.Add(1, new("service", "db"), new("reason", "oom-kill"));

        Assert.That(await CollectAsync(exporter), Is.EqualTo("""
            # HELP gitproc_service_exits_total Exits by reason.
            # TYPE gitproc_service_exits_total counter
            gitproc_service_exits_total{reason="oom-kill",service="db"} 1
            gitproc_service_exits_total{reason="signal",service="web"} 3

            """.Replace("\r\n", "\n")));
    }

    [Test]
    public async Task A_histogram_has_cumulative_buckets_at_its_advised_bounds_with_sum_and_count()
    {
        using var exporter = new PrometheusExporter(_factory);
        var latency = _meter.CreateHistogram("gitproc.service.start.duration", "s", "Start latency.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.25, 0.5, 1] });
        foreach (var value in new[] { 0.125, 0.25, 0.375, 0.75, 2.0 })
        {
            latency.Record(value, new KeyValuePair<string, object?>("service", "web"));
        }

        Assert.That(await CollectAsync(exporter), Is.EqualTo("""
            # HELP gitproc_service_start_duration_seconds Start latency.
            # TYPE gitproc_service_start_duration_seconds histogram
            gitproc_service_start_duration_seconds_bucket{service="web",le="0.25"} 2
            gitproc_service_start_duration_seconds_bucket{service="web",le="0.5"} 3
            gitproc_service_start_duration_seconds_bucket{service="web",le="1"} 4
            gitproc_service_start_duration_seconds_bucket{service="web",le="+Inf"} 5
            gitproc_service_start_duration_seconds_sum{service="web"} 3.5
            gitproc_service_start_duration_seconds_count{service="web"} 5

            """.Replace("\r\n", "\n")));
    }

    [Test]
    public async Task Observable_instruments_are_read_at_each_collection_and_a_series_no_longer_reported_is_gone()
    {
        using var exporter = new PrometheusExporter(_factory);
        var services = new List<(string Name, int Up)> { ("web", 1), ("db", 0) };
        _meter.CreateObservableGauge("gitproc.service.up", () => services.Select(s => new Measurement<int>(s.Up, new KeyValuePair<string, object?>("service", s.Name))),
            description: "Up.");
        var restarts = 0;
        _meter.CreateObservableCounter("gitproc.service.restarts", () => new Measurement<int>(restarts, new KeyValuePair<string, object?>("service", "web")), "{restart}", "Restarts.");

        var first = await CollectAsync(exporter);
        Assert.That(first, Does.Contain("gitproc_service_up{service=\"db\"} 0\ngitproc_service_up{service=\"web\"} 1\n"));
        Assert.That(first, Does.Contain("# TYPE gitproc_service_restarts_total counter\ngitproc_service_restarts_total{service=\"web\"} 0\n"));

        services.RemoveAt(1);
        restarts = 4;
        var second = await CollectAsync(exporter);
        Assert.That(second, Does.Not.Contain("service=\"db\""), "a removed service's series disappears");
        Assert.That(second, Does.Contain("gitproc_service_restarts_total{service=\"web\"} 4\n"), "an observable counter reports its total, not a sum of totals");
    }

    [Test]
    public async Task Only_the_meter_of_its_own_factory_is_exported_and_an_instrument_with_no_series_writes_nothing()
    {
        using var other = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var otherMeter = other.GetRequiredService<IMeterFactory>().Create(GitProcMetrics.MeterName);
        using var exporter = new PrometheusExporter(_factory);
        otherMeter.CreateCounter<long>("gitproc.service.starts").Add(5);
        _meter.CreateCounter<long>("gitproc.service.exits");
        using var unrelated = new Meter("Unrelated");
        unrelated.CreateCounter<long>("gitproc.service.starts").Add(7);

        Assert.That(await CollectAsync(exporter), Is.Empty);

        _meter.CreateCounter<long>("gitproc.service.starts").Add(1);
        Assert.That(await CollectAsync(exporter), Is.EqualTo("# HELP gitproc_service_starts_total gitproc.service.starts\n# TYPE gitproc_service_starts_total counter\ngitproc_service_starts_total 1\n"));
    }

    [Test]
    public async Task Label_values_are_escaped_in_the_output()
    {
        using var exporter = new PrometheusExporter(_factory);
        _meter.CreateObservableGauge("gitproc.commit.rejected.info", () => new Measurement<int>(1, new KeyValuePair<string, object?>("file", "we\"ird\\name\n.service")));

        Assert.That(await CollectAsync(exporter), Does.Contain("gitproc_commit_rejected_info{file=\"we\\\"ird\\\\name\\n.service\"} 1\n"));
    }

    [Test]
    public async Task The_instruments_of_a_disposed_container_are_dropped()
    {
        var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(factory);
        factory.Create(GitProcMetrics.MeterName).CreateCounter<long>("gitproc.service.starts").Add(1);
        Assert.That(await CollectAsync(exporter), Does.Contain("gitproc_service_starts_total 1"));

        provider.Dispose();
        Assert.That(await CollectAsync(exporter), Is.Empty);
    }
}
