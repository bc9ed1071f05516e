using System.Diagnostics.Metrics;
using System.Text;
using GitProc.Core.Tests.TestSupport;
using GitProc.Git;
using GitProc.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.Metrics;

/// <summary>Fetches and branch reads of a real repository following a real remote, as the metrics show them.</summary>
public sealed class GitMetricsTests
{
    private TempGitRepository _temp = null!;
    private ServiceProvider _meters = null!;
    private PrometheusExporter _exporter = null!;
    private GitProcMetrics _metrics = null!;

    [SetUp]
    public void SetUp()
    {
        _temp = new TempGitRepository();
        _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _meters.GetRequiredService<IMeterFactory>();
        _exporter = new PrometheusExporter(factory);
        _metrics = new GitProcMetrics(factory, Options.Create(new GitProcOptions()), TimeProvider.System);
    }

    [TearDown]
    public void TearDown()
    {
        _exporter.Dispose();
        _meters.Dispose();
        _temp.Dispose();
    }

    private async Task<Scrape> ScrapeAsync() => new(Encoding.UTF8.GetString(await _exporter.CollectAsync()));

    [Test]
    public async Task Fetches_are_counted_by_result_with_when_each_result_last_happened_and_the_tip_read_is_shown()
    {
        var upstream = _temp.InitWithCli(Path.Combine(_temp.Root, "upstream"));
        var first = _temp.CommitIn(upstream, "first", ("a.service", "[Service]\nExecStart=/bin/true\n"));
        var git = _temp.CreateIntegration(remoteUrl: upstream, metrics: _metrics);
        await git.InitAsync();
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        await git.FetchAsync();
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(first));
        var fetched = await ScrapeAsync();
        Assert.That(fetched["gitproc_git_fetches_total{result=\"success\"}"], Is.EqualTo(1), fetched.ToString);
        Assert.That(fetched["gitproc_git_fetch_last_timestamp_seconds{result=\"success\"}"], Is.GreaterThanOrEqualTo(Math.Floor(before)), fetched.ToString);
        Assert.That(fetched.SeriesOf("gitproc_git_fetch_last_timestamp_seconds"), Has.Exactly(1).Items, "no failure yet");
        Assert.That(fetched[$"gitproc_branch_tip_info{{branch=\"main\",commit=\"{first}\"}}"], Is.EqualTo(1), fetched.ToString);

        Directory.Delete(upstream, recursive: true);
        Assert.ThrowsAsync<GitException>(() => git.FetchAsync());
        var failed = await ScrapeAsync();
        Assert.That(failed["gitproc_git_fetches_total{result=\"failure\"}"], Is.EqualTo(1), failed.ToString);
        Assert.That(failed["gitproc_git_fetches_total{result=\"success\"}"], Is.EqualTo(1), failed.ToString);
        Assert.That(failed["gitproc_git_fetch_last_timestamp_seconds{result=\"failure\"}"], Is.GreaterThanOrEqualTo(failed["gitproc_git_fetch_last_timestamp_seconds{result=\"success\"}"]!.Value), failed.ToString);
    }

    [Test]
    public async Task The_fetch_backoffs_attempt_count_is_a_gauge_present_only_with_a_remote()
    {
        var reconciler = new Moq.Mock<GitProc.Reconciliation.IReconciler>();
        reconciler.SetupGet(r => r.Status).Returns(new GitProc.Reconciliation.ReconcilerStatus("main", null, null));
        _metrics.Observe(reconciler.Object);
        Assert.That((await ScrapeAsync()).SeriesOf("gitproc_git_fetch_consecutive_failures"), Is.Empty, "no remote");

        reconciler.SetupGet(r => r.Status).Returns(new GitProc.Reconciliation.ReconcilerStatus("main", null, null)
        {
            Fetch = new GitProc.Reconciliation.FetchStatus { Remote = "https://git.example.com/units.git", ConsecutiveFailures = 3 },
        });
        var scrape = await ScrapeAsync();
        Assert.That(scrape["gitproc_git_fetch_consecutive_failures"], Is.EqualTo(3), scrape.ToString);
    }

    [Test]
    public async Task Without_a_remote_there_is_no_fetch_to_show()
    {
        _temp.InitWithCli();
        var git = _temp.CreateIntegration(metrics: _metrics);
        await git.FetchAsync();

        var scrape = await ScrapeAsync();
        Assert.That(scrape.SeriesOf("gitproc_git_fetches_total"), Is.Empty, scrape.ToString);
        Assert.That(scrape.SeriesOf("gitproc_branch_tip_info"), Is.Empty, "the unborn branch has no tip");
    }
}
