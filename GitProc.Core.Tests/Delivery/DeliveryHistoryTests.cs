using System.Diagnostics.Metrics;
using GitProc.Delivery;
using GitProc.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.Delivery;

/// <summary>The history file on a real disk: what a restarted daemon reads back decides what is never applied again.</summary>
[TestFixture]
public sealed class DeliveryHistoryTests
{
    private string _directory = null!;
    private GitProcOptions _options = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Path.Combine(Path.GetTempPath(), "gitproc-history-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _options = new GitProcOptions { StatePath = Path.Combine(_directory, "state.json") };
        _options.Delivery.HistoryLimit = 3;
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [Test]
    public async Task Records_survive_a_restart_newest_first_and_bounded()
    {
        var history = New();
        await history.LoadAsync();
        foreach (var commit in new[] { "a1", "b2", "c3", "d4" })
        {
            await history.RecordAsync(new DeliveryRecord { Commit = commit, Result = DeliveryResult.Verifying, Started = ["web"] });
        }

        await history.UpdateAsync("c3", r => r with { Result = DeliveryResult.RolledBack, RollbackReason = "web crash-looped" });
        Assert.That(File.Exists(Path.Combine(_directory, "state.history.json")), Is.True);

        var reread = New();
        await reread.LoadAsync();
        Assert.That(reread.Records.Select(r => r.Commit), Is.EqualTo(new[] { "d4", "c3", "b2" }), "the oldest beyond the limit is dropped");
        Assert.That(reread.Find("c3"), Is.Not.Null);
        Assert.That(reread.Find("c3")!.Result, Is.EqualTo(DeliveryResult.RolledBack));
        Assert.That(reread.Find("c3")!.RollbackReason, Is.EqualTo("web crash-looped"));
        Assert.That(reread.Find("c3")!.Started, Is.EqualTo(new[] { "web" }));
        Assert.That(reread.Find("a1"), Is.Null);
    }

    [Test]
    public async Task Each_commit_is_counted_once_per_result_it_reaches_in_the_commits_metric()
    {
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = meters.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(factory);
        var history = new DeliveryHistory(Options.Create(_options), NullLogger<DeliveryHistory>.Instance, new GitProcMetrics(factory, Options.Create(_options), TimeProvider.System));
        await history.LoadAsync();

        await history.RecordAsync(new DeliveryRecord { Commit = "a1", Result = DeliveryResult.Rejected });
        await history.RecordAsync(new DeliveryRecord { Commit = "a1", Result = DeliveryResult.Rejected, Errors = ["asked again"] });
        await history.RecordAsync(new DeliveryRecord { Commit = "b2", Result = DeliveryResult.Verifying });
        await history.UpdateAsync("b2", r => r with { Result = DeliveryResult.RolledBack });
        await history.RecordAsync(new DeliveryRecord { Commit = "c3", Result = DeliveryResult.Applied });

        var text = System.Text.Encoding.UTF8.GetString(await exporter.CollectAsync());
        Assert.That(text, Does.Contain("gitproc_commits_total{result=\"rejected\"} 1\n"), text);
        Assert.That(text, Does.Contain("gitproc_commits_total{result=\"rolled_back\"} 1\n"), text);
        Assert.That(text, Does.Contain("gitproc_commits_total{result=\"applied\"} 1\n"), text);
        Assert.That(text, Does.Not.Contain("verifying"), "a commit on trial has no result yet");
    }

    [Test]
    public async Task Recording_a_commit_again_replaces_its_record_and_makes_it_newest()
    {
        var history = New();
        await history.LoadAsync();
        await history.RecordAsync(new DeliveryRecord { Commit = "a1", Result = DeliveryResult.Rejected });
        await history.RecordAsync(new DeliveryRecord { Commit = "b2", Result = DeliveryResult.Applied });
        await history.RecordAsync(new DeliveryRecord { Commit = "a1", Result = DeliveryResult.Rejected, Errors = ["again"] });
        Assert.That(history.Records.Select(r => r.Commit), Is.EqualTo(new[] { "a1", "b2" }));
        Assert.That(history.Newest?.Commit, Is.EqualTo("a1"));
        Assert.That(history.Records[0].Errors, Is.EqualTo(new[] { "again" }));
    }

    [Test]
    public async Task An_unreadable_file_is_moved_aside_and_reported_and_the_history_starts_empty()
    {
        var path = Path.Combine(_directory, "state.history.json");
        await File.WriteAllTextAsync(path, "{ not json");
        var logger = new FakeLogger<DeliveryHistory>();
        var history = new DeliveryHistory(Options.Create(_options), logger);
        await history.LoadAsync();

        Assert.That(history.Records, Is.Empty);
        Assert.That(Directory.GetFiles(_directory, "state.history.json.corrupt-*"), Has.Length.EqualTo(1));
        Assert.That(logger.Collector.GetSnapshot().Select(e => e.Message), Has.Some.Contains(path));

        await history.RecordAsync(new DeliveryRecord { Commit = "a1" });
        Assert.That(await File.ReadAllTextAsync(path), Does.Contain("a1"));
    }

    private DeliveryHistory New() => new(Options.Create(_options), new FakeLogger<DeliveryHistory>());
}
