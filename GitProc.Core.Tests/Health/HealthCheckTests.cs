using GitProc.Health;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Health;

public sealed class HealthCheckTests
{
    [Test]
    public void From_returns_null_for_a_unit_without_a_health_check_url()
    {
        var unit = new UnitFile { Name = "web", FileName = "web.service" };

        Assert.That(HealthCheck.From(unit, new HealthOptions()), Is.Null);
    }

    [Test]
    public void From_takes_the_unit_keys_and_the_start_period_and_interval_from_options()
    {
        var unit = new UnitFile
        {
            Name = "web",
            FileName = "web.service",
            HealthCheckUrl = new Uri("http://127.0.0.1:8080/health"),
            HealthCheckInterval = TimeSpan.FromSeconds(7),
            HealthCheckTimeout = TimeSpan.FromSeconds(2),
            HealthCheckRetries = 4,
        };
        var options = new HealthOptions { StartPeriod = TimeSpan.FromSeconds(20), StartInterval = TimeSpan.FromMilliseconds(500) };

        var check = HealthCheck.From(unit, options);

        Assert.That(check, Is.EqualTo(new HealthCheck
        {
            Service = "web",
            Url = new Uri("http://127.0.0.1:8080/health"),
            Interval = TimeSpan.FromSeconds(7),
            Timeout = TimeSpan.FromSeconds(2),
            Retries = 4,
            StartPeriod = TimeSpan.FromSeconds(20),
            StartInterval = TimeSpan.FromMilliseconds(500),
        }));
    }

    [Test]
    public void From_replaces_values_that_cannot_work_by_the_defaults()
    {
        var unit = new UnitFile
        {
            Name = "web",
            FileName = "web.service",
            HealthCheckUrl = new Uri("http://127.0.0.1:8080/"),
            HealthCheckInterval = TimeSpan.Zero,
            HealthCheckTimeout = TimeSpan.FromSeconds(-1),
            HealthCheckRetries = 0,
        };

        var check = HealthCheck.From(unit, new HealthOptions { StartPeriod = TimeSpan.FromSeconds(-3), StartInterval = TimeSpan.FromMinutes(5) })!;

        Assert.Multiple(() =>
        {
            Assert.That(check.Interval, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(check.Timeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(check.Retries, Is.EqualTo(1));
            Assert.That(check.StartPeriod, Is.EqualTo(TimeSpan.Zero));
            Assert.That(check.StartInterval, Is.EqualTo(check.Interval), "the start interval is never longer than the interval");
        });
    }
}
