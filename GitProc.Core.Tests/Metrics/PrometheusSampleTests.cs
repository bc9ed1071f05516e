using System.Diagnostics;
using System.Runtime.Versioning;
using GitProc.Core.Tests.EndToEnd;

namespace GitProc.Core.Tests.Metrics;

/// <summary>
/// <c>samples/integrations/prometheus</c> as Prometheus's own checker reads it: the scrape config is valid and loads
/// the rules, and the alert rules pass their unit tests (service down, crash looping, commit rejected or rolled back,
/// host not on the branch tip, fleet diverged, fetch failing). Needs Debian's <c>prometheus</c> package (promtool).
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class PrometheusSampleTests
{
    internal const string Promtool = "/usr/bin/promtool";

    private static string Folder => Path.Combine(GitProcSandbox.SourceRoot, "samples", "integrations", "prometheus");

    [SetUp]
    public void RequirePromtool()
    {
        if (!File.Exists(Promtool))
        {
            Assert.Ignore($"{Promtool} is not installed (Debian package prometheus; .ci/run installs it as root).");
        }
    }

    [Test]
    public async Task The_scrape_config_is_valid_and_finds_its_rule_file()
    {
        var (code, output) = await PromtoolAsync("check", "config", "prometheus.yml");
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("SUCCESS: 1 rule files found"), output);
    }

    [Test]
    public async Task The_alert_rules_pass_their_unit_tests()
    {
        var (code, output) = await PromtoolAsync("test", "rules", "gitproc-alerts.test.yml");
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("SUCCESS"), output);
    }

    private static async Task<(int Code, string Output)> PromtoolAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Promtool) { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.CurrentContext.CancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }
}
