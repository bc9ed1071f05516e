using System.Diagnostics;
using System.Globalization;
using GitProc.Core.Tests.TestSupport;
using GitProc.Health;

namespace GitProc.Core.Tests.Health;

[CancelAfter(60_000)]
public sealed class HealthMonitorLoadTests
{
    [Test]
    public async Task Two_hundred_services_checked_every_second_cost_little_CPU()
    {
        const int Services = 200;
        var interval = TimeSpan.FromSeconds(1);
        var window = TimeSpan.FromSeconds(3.5);
        await using var server = new TestHttpServer();
        await using var monitor = HealthMonitorTests.CreateMonitor();
        for (var i = 0; i < Services; i++)
        {
            monitor.Watch(new HealthCheck
            {
                Service = $"s{i}", Url = server.Url($"/s{i}"), Interval = interval, StartInterval = interval,
                StartPeriod = TimeSpan.Zero, Timeout = TimeSpan.FromSeconds(5),
            });
        }

        // Warm up before measuring: tiered JIT recompiles the hot paths during the first seconds, costing more
        // CPU than the checks themselves, and the connection pool fills.
        await Eventually.TrueAsync(() => Enumerable.Range(0, Services).All(i => server.Requests($"/s{i}") >= 5), "every service was checked five times", TimeSpan.FromSeconds(30));

        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var requestsBefore = server.TotalRequests;
        var clock = Stopwatch.StartNew();
        await Task.Delay(window);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var elapsed = clock.Elapsed;
        var requests = server.TotalRequests - requestsBefore;

        var cpuPerSecond = cpu / elapsed.TotalSeconds;
        TestContext.Out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{Services} services every {interval.TotalSeconds:0.##} s: {requests} checks in {elapsed.TotalSeconds:0.00} s, process CPU {cpuPerSecond.TotalMilliseconds:0.0} ms/s = {cpuPerSecond.TotalMilliseconds / 10:0.00}% of one core (monitor and in-process test server together)"));

        Assert.Multiple(() =>
        {
            Assert.That(Enumerable.Range(0, Services).All(i => monitor.GetReport($"s{i}")!.State == HealthState.Healthy), Is.True);
            Assert.That(requests, Is.GreaterThan(Services * window.TotalSeconds / interval.TotalSeconds / 2), "checks keep their interval");
            Assert.That(server.AcceptedConnections, Is.LessThanOrEqualTo(Services), "keep-alive connections are reused, never one per check");
            // Generous sanity bound only: the benchmark proper is run separately.
            Assert.That(cpuPerSecond, Is.LessThan(TimeSpan.FromMilliseconds(250)), "CPU per second of wall time");
        });
    }
}
