using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// A real Prometheus server scrapes the real daemon (CONTRACT §12, §13): PromQL over its HTTP API sees services go down
/// and restart, and the shipped alert rules load. Needs Debian's <c>prometheus</c> package.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(180_000)]
public sealed class PrometheusServerTests : SandboxFixture
{
    private PrometheusServer? _prometheus;

    [SetUp]
    public void SetUp()
    {
        if (!File.Exists(PrometheusServer.Executable))
        {
            Assert.Ignore($"{PrometheusServer.Executable} is not installed (Debian package prometheus; .ci/run installs it as root).");
        }
    }

    [TearDown]
    public async Task TearDown()
    {
        // Before the sandbox (SandboxFixture disposes it after this): its command line names the sandbox, whose disposal
        // checks that nothing of its own survives.
        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }
    }

    /// <summary>Queries until the value is <paramref name="expected"/>; fails with the last answer after a generous deadline.</summary>
    private async Task WaitForValueAsync(string promQl, double expected, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        double? value = null;
        while (DateTime.UtcNow < deadline)
        {
            value = await _prometheus!.QueryAsync(promQl, token);
            if (value == expected)
            {
                return;
            }

            await Task.Delay(250, token);
        }

        Assert.Fail($"{promQl} was {value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "empty"}, not {expected}, after 30 s.\n--- prometheus ---\n{_prometheus!.Output}\n--- daemon ---\n{Sandbox.DaemonOutput}");
    }

    [Test]
    public async Task Prometheus_scrapes_the_daemon_and_PromQL_sees_a_killed_service_restart(CancellationToken token)
    {
        var metricsPort = Scrape.FreePort();
        await Sandbox.WriteConfigAsync($$"""
            "Metrics": { "Listen": "127.0.0.1:{{metricsPort}}" }
            """);
        Sandbox.WriteUnit("web", Sandbox.Unit("web", "Restart=always\nRestartSec=100ms"));
        Sandbox.WriteUnit("db", Sandbox.Unit("db"));
        await Sandbox.CommitAsync("web and db", token);
        await Sandbox.StartDaemonAsync(token);
        var pids = await Sandbox.WaitRunningAsync(token, "web", "db");

        var rules = Path.Combine(GitProcSandbox.SourceRoot, "samples", "integrations", "prometheus", "gitproc-alerts.yml");
        _prometheus = await PrometheusServer.StartAsync(Path.Combine(Sandbox.Root, "prometheus"), metricsPort, [rules], token);

        // Prometheus's own parser accepted the scrape: the target is up and the samples are there.
        await WaitForValueAsync("up{job=\"gitproc\"}", 1, token);
        await WaitForValueAsync("gitproc_service_up{service=\"web\"}", 1, token);
        await WaitForValueAsync("gitproc_service_restarts_total{service=\"web\"}", 0, token);
        await WaitForValueAsync("count(gitproc_service_up == 1)", 2, token);

        _ = Interop.Processes.Kill(pids["web"], 9);
        await WaitForValueAsync("gitproc_service_restarts_total{service=\"web\"}", 1, token);
        await WaitForValueAsync("gitproc_service_up{service=\"web\"}", 1, token);
        await WaitForValueAsync("gitproc_service_exits_total{service=\"web\",reason=\"signal\"}", 1, token);
        await WaitForValueAsync("gitproc_service_restarts_total{service=\"db\"}", 0, token);

        // The shipped alert rules load and evaluate against the real series.
        var groups = (await _prometheus.ApiAsync("/api/v1/rules", token)).GetProperty("groups");
        var gitproc = groups.EnumerateArray().Single(g => g.GetProperty("name").GetString() == "gitproc");
        var rulesLoaded = gitproc.GetProperty("rules").EnumerateArray().ToList();
        Assert.That(rulesLoaded, Has.Count.EqualTo(9));
        Assert.That(rulesLoaded.Select(r => r.GetProperty("health").GetString()), Is.All.EqualTo("ok").Or.EqualTo("unknown"), gitproc.ToString);
    }
}
