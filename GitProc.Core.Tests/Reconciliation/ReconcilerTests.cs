using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Reconciliation;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GitProc.Core.Tests.Reconciliation;

/// <summary>The reconciler over a real Git repository and a real supervisor with real processes.</summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed partial class ReconcilerTests
{
    private TempGitRepository _repo = null!;
    private readonly List<ServiceProvider> _providers = [];

    [SetUp]
    public void SetUp()
    {
        _repo = new TempGitRepository();
        _repo.InitWithCli();
        _alice = _mallory = null;
    }

    [TearDown]
    public async Task TearDown()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        var survivors = ProcScan.FindByCommandLine(_repo.Root);
        _repo.Dispose();
        Assert.That(survivors, Is.Empty, "service processes survived the supervisor's disposal");
    }

    private (Reconciler Reconciler, ISupervisor Supervisor) Create(ILogger<Reconciler>? logger = null, Action<GitProcOptions>? configure = null)
    {
        var services = new ServiceCollection();
        if (logger is not null)
        {
            services.AddSingleton(logger);
        }

        services.AddGitProc(o =>
        {
            o.RepositoryPath = _repo.Path;
            o.StatePath = Path.Combine(_repo.Root, "state.json");
            o.LogDirectory = Path.Combine(_repo.Root, "logs");
            o.SocketPath = Path.Combine(_repo.Root, "gitproc.sock");
            o.ResourceControl.Enabled = false;
            configure?.Invoke(o);
        });
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return (provider.GetRequiredService<Reconciler>(), provider.GetRequiredService<ISupervisor>());
    }

    private static string Unit(string command) => $"[Service]\nExecStart={command}\n";

    private string Sleep(string tag) => $"/bin/sh -c 'exec sleep 300' {_repo.Root}/{tag}";

    [Test]
    public async Task Sync_applies_the_tip_once_and_reads_units_from_the_commit_not_the_working_tree()
    {
        var commit = _repo.Commit("add web", ("web.service", Unit(Sleep("web"))));
        File.WriteAllText(Path.Combine(_repo.Path, "uncommitted.service"), Unit(Sleep("nope")));
        var (reconciler, supervisor) = Create();

        var first = await reconciler.SyncAsync();
        var second = await reconciler.SyncAsync();

        Assert.That(first.Commit, Is.EqualTo(commit));
        Assert.That(first.ReloadedCount, Is.EqualTo(1));
        Assert.That(second.ReloadedCount, Is.Zero);
        Assert.That(supervisor.ListServices().Select(s => s.Name), Is.EqualTo(new[] { "web" }));
        Assert.That(reconciler.Status.AppliedCommit, Is.EqualTo(commit));
    }

    [Test]
    public async Task What_an_applied_commit_has_that_GitProc_ignores_is_logged_once_with_file_line_and_key()
    {
        // A systemd key GitProc does not implement: kept, applied, and logged (a misspelt key is an error: see below).
        var commit = _repo.Commit(
            "sandboxing",
            ("web.service", "[Unit]\nAfter=network.target\n[Service]\nExecStart=" + Sleep("web") + "\nProtectSystem=strict\n"));
        var logger = new FakeLogger<Reconciler>();
        var (reconciler, supervisor) = Create(logger);

        await reconciler.SyncAsync();
        await reconciler.SyncAsync();

        var warnings = logger.Collector.GetSnapshot().Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.That(warnings, Has.Count.EqualTo(2), string.Join("\n", warnings));
        Assert.That(warnings, Has.One.StartsWith($"Commit {commit[..7]}: web.service:5: ProtectSystem: ProtectSystem= in [Service] is a systemd setting GitProc does not act on"));
        Assert.That(warnings, Has.One.Contains("After=network.target, which is not a service"));
        Assert.That(supervisor.GetStatus("web").Status, Is.EqualTo(ServiceStatus.Running), "warnings never stop a unit from running");
    }

    [Test]
    public async Task A_commit_with_a_broken_unit_is_rejected_whole_and_the_last_good_commit_keeps_running()
    {
        _repo.Commit("good", ("web.service", Unit(Sleep("web"))));
        var (reconciler, supervisor) = Create();
        await reconciler.SyncAsync();
        var pid = supervisor.GetStatus("web").Pid;

        var bad = _repo.Commit("bad", ("web.service", "[Service]\nExecStart=/bin/true\nRestart=sometimes\n"), ("new.service", Unit(Sleep("new"))));
        var ex = Assert.ThrowsAsync<CommitRejectedException>(() => reconciler.SyncAsync());

        Assert.That(ex!.Message, Does.Contain(bad[..7]).And.Contain("web.service:3").And.Contain("Restart"));
        Assert.That(ex.Rejection.File, Is.EqualTo("web.service"));
        Assert.That(ex.Rejection.Line, Is.EqualTo(3));
        Assert.That(reconciler.Status.Rejected?.Commit, Is.EqualTo(bad));
        Assert.That(supervisor.GetStatus("web").Pid, Is.EqualTo(pid), "the running service was not touched");
        Assert.That(supervisor.ListServices().Select(s => s.Name), Is.EqualTo(new[] { "web" }), "nothing of the rejected commit was applied");
    }

    [Test]
    public async Task A_misspelt_key_rejects_the_commit_with_every_error_of_every_file_and_the_last_good_keeps_running()
    {
        _repo.Commit("good", ("web.service", Unit(Sleep("web"))));
        var (reconciler, supervisor) = Create();
        await reconciler.SyncAsync();
        var pid = supervisor.GetStatus("web").Pid;

        var bad = _repo.Commit(
            "typos",
            ("web.service", Unit(Sleep("web2")) + "Restrat=always\n"),
            ("api.service", "[Service]\nExecStart=" + Sleep("api") + "\nHealthCheckUrl=http://127.0.0.1:1/health\nMemoryMax=lots\n"));
        var ex = Assert.ThrowsAsync<CommitRejectedException>(() => reconciler.SyncAsync())!;

        string[] expected =
        [
            "api.service:3: HealthCheckUrl: HealthCheckUrl= is not a systemd or GitProc key in [Service]; did you mean HealthCheckURL=? Keys are case-sensitive.",
            "api.service:4: MemoryMax: The value 'lots' is not a memory size; write bytes with an optional K, M, G, T or P suffix (base 1024) such as 512M or 2G, a percentage such as 50%, or infinity.",
            "web.service:3: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=?",
        ];
        Assert.That(ex.Message, Is.EqualTo($"Commit {bad[..7]} rejected, nothing applied: 3 errors:\n{string.Join('\n', expected)}"));
        Assert.That((ex.Rejection.File, ex.Rejection.Line), Is.EqualTo(("api.service", (int?)3)));

        // The history record carries every diagnostic, one per entry, as gitproc check prints them.
        var record = _providers[^1].GetRequiredService<GitProc.Delivery.IDeliveryHistory>().Find(bad);
        Assert.That(record?.Result, Is.EqualTo(GitProc.Delivery.DeliveryResult.Rejected));
        Assert.That(record!.Errors, Is.EqualTo(expected));

        // plan says the same, before anything is applied.
        var plan = await reconciler.PlanAsync(bad);
        Assert.That(plan.Plan, Is.Null);
        Assert.That(plan.Errors, Is.EqualTo(expected));

        Assert.That(supervisor.GetStatus("web").Pid, Is.EqualTo(pid), "the running service was not touched");
        Assert.That(supervisor.ListServices().Select(s => s.Name), Is.EqualTo(new[] { "web" }));
    }

    [Test]
    public async Task With_UnknownKeys_Warn_a_misspelt_key_applies_and_is_logged_with_its_suggestion()
    {
        var commit = _repo.Commit("typo", ("web.service", Unit(Sleep("web")) + "Restrat=always\n"));
        var logger = new FakeLogger<Reconciler>();
        var (reconciler, supervisor) = Create(logger, o => o.UnitFiles.UnknownKeys = GitProc.UnitFiles.UnknownKeyHandling.Warn);

        await reconciler.SyncAsync();

        Assert.That(supervisor.GetStatus("web").Status, Is.EqualTo(ServiceStatus.Running));
        Assert.That(
            logger.Collector.GetSnapshot().Where(e => e.Level == LogLevel.Warning).Select(e => e.Message),
            Has.One.EqualTo($"Commit {commit[..7]}: web.service:3: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=? It is kept but ignored."));
    }

    [Test]
    public async Task A_dependency_cycle_rejects_the_commit()
    {
        _repo.Commit("cycle", ("a.service", "[Unit]\nAfter=b\n" + Unit(Sleep("a"))), ("b.service", "[Unit]\nAfter=a\n" + Unit(Sleep("b"))));
        var (reconciler, supervisor) = Create();

        var ex = Assert.ThrowsAsync<CommitRejectedException>(() => reconciler.SyncAsync());

        Assert.That(ex!.Message, Does.Contain("cycle"));
        Assert.That(supervisor.ListServices(), Is.Empty);
    }

    [Test]
    public async Task Rollback_commits_the_old_tree_and_applies_it()
    {
        var good = _repo.Commit("v1", ("web.service", Unit(Sleep("v1"))));
        _repo.Commit("v2", ("web.service", Unit(Sleep("v2"))), ("extra.service", Unit(Sleep("extra"))));
        var (reconciler, supervisor) = Create();
        await reconciler.SyncAsync();
        Assert.That(supervisor.ListServices(), Has.Count.EqualTo(2));

        var result = await reconciler.RollbackAsync(good[..7]);

        Assert.That(result.RestoredCommit, Is.EqualTo(good));
        Assert.That(_repo.Git("log", "-1", "--format=%s").Trim(), Is.EqualTo($"Rollback to {good[..7]}"));
        Assert.That(_repo.Git("rev-parse", "HEAD").Trim(), Is.EqualTo(result.NewCommit));
        Assert.That(supervisor.ListServices().Select(s => s.Name), Is.EqualTo(new[] { "web" }));
        Assert.That(result.Sync.Changes.Restarted, Is.EqualTo(new[] { "web" }));
        Assert.That(result.Sync.Changes.Stopped, Is.EqualTo(new[] { "extra" }));
    }

    [Test]
    public async Task A_daemon_starting_on_a_rejected_tip_runs_the_previous_runs_last_good_commit()
    {
        var good = _repo.Commit("good", ("web.service", Unit(Sleep("web"))));
        _repo.Commit("bad", ("web.service", "[Service]\n"));
        var (reconciler, supervisor) = Create();
        reconciler.ResumeFrom(good);

        Assert.ThrowsAsync<CommitRejectedException>(() => reconciler.SyncAsync());

        Assert.That(reconciler.Status.AppliedCommit, Is.EqualTo(good));
        Assert.That(supervisor.GetStatus("web").Status, Is.EqualTo(ServiceStatus.Running));
    }

    [Test]
    public async Task The_watch_loop_applies_a_new_commit_within_seconds()
    {
        _repo.Commit("v1", ("web.service", Unit(Sleep("v1"))));
        var (reconciler, supervisor) = Create();
        await reconciler.SyncAsync();
        var before = supervisor.GetStatus("web").Pid;
        using var stop = new CancellationTokenSource();
        var watch = reconciler.WatchAsync(stop.Token);

        var next = _repo.Commit("v2", ("web.service", Unit(Sleep("v2"))));

        Assert.That(
            await ProcScan.WaitUntilAsync(() => reconciler.Status.AppliedCommit == next && supervisor.GetStatus("web").Pid != before, TimeSpan.FromSeconds(10)),
            Is.True);
        await stop.CancelAsync();
        await watch.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task The_watch_loop_applies_a_local_commit_while_the_remote_cannot_be_fetched()
    {
        _repo.Commit("v1", ("web.service", Unit(Sleep("v1"))));
        var logger = new FakeLogger<Reconciler>();
        var (reconciler, supervisor) = Create(logger, o =>
        {
            o.Git.RemoteUrl = new Uri(Path.Combine(_repo.Root, "no-such-remote.git")).AbsoluteUri;
            o.Git.FetchInterval = TimeSpan.FromHours(1);
        });
        using var stop = new CancellationTokenSource();
        var watch = reconciler.WatchAsync(stop.Token);

        var next = _repo.Commit("v2", ("web.service", Unit(Sleep("v2"))));

        Assert.That(
            await ProcScan.WaitUntilAsync(() => reconciler.Status.AppliedCommit == next && supervisor.GetStatus("web").Status == ServiceStatus.Running, TimeSpan.FromSeconds(15)),
            Is.True,
            "a local commit applies although every fetch fails");
        Assert.That(logger.Collector.GetSnapshot().Select(e => e.Message), Has.Some.Contains("no-such-remote"), "the fetch failure is logged");
        await stop.CancelAsync();
        await watch.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task A_sync_reports_once_what_the_watcher_applied_just_before_it()
    {
        _repo.Commit("v1", ("web.service", Unit(Sleep("web1"))), ("old.service", Unit(Sleep("old"))));
        var (reconciler, _) = Create();
        await reconciler.SyncAsync();
        var v2 = _repo.Commit("v2", ("web.service", Unit(Sleep("web2"))), ("old.service", null), ("api.service", Unit(Sleep("api"))));

        // The watcher wins the race with `gitproc sync` run right after the commit.
        var byWatcher = await reconciler.SyncIfChangedAsync();
        var first = await reconciler.SyncAsync();
        var second = await reconciler.SyncAsync();

        Assert.That(byWatcher?.Commit, Is.EqualTo(v2));
        Assert.That(first.Commit, Is.EqualTo(v2));
        Assert.That(first.ReloadedCount, Is.EqualTo(3), "what the commit did, though the watcher applied it");
        Assert.That((first.Changes.Started, first.Changes.Restarted, first.Changes.Stopped), Is.EqualTo((new[] { "api" }, new[] { "web" }, new[] { "old" })));
        Assert.That(second.Commit, Is.EqualTo(v2));
        Assert.That(second.ReloadedCount, Is.Zero, "an apply is reported once: nothing new since");
    }

    [Test]
    public async Task An_apply_a_sync_made_itself_is_not_reported_again()
    {
        _repo.Commit("v1", ("web.service", Unit(Sleep("web1"))));
        var (reconciler, _) = Create();

        var first = await reconciler.SyncAsync();
        var watcher = await reconciler.SyncIfChangedAsync();
        var second = await reconciler.SyncAsync();

        Assert.That(first.ReloadedCount, Is.EqualTo(1));
        Assert.That(watcher, Is.Null, "nothing new for the watcher");
        Assert.That(second.ReloadedCount, Is.Zero);
    }

    [Test]
    public async Task The_applied_commits_warnings_are_kept_by_service_listed_by_every_sync_and_outlast_a_rejected_tip()
    {
        var commit = _repo.Commit(
            "warnings",
            ("web.service", "[Unit]\nAfter=network.target\n[Service]\nExecStart=" + Sleep("web") + "\nProtectSystem=strict\n"),
            ("db.service", Unit(Sleep("db"))));
        var (reconciler, _) = Create();

        var first = await reconciler.SyncAsync();
        var second = await reconciler.SyncAsync();

        string[] expected =
        [
            "web.service:2: After: Service 'web' has After=network.target, which is not a service; GitProc supervises only services, so the entry is ignored.",
            "web.service:5: ProtectSystem: ProtectSystem= in [Service] is a systemd setting GitProc does not act on; it is kept but ignored.",
        ];
        Assert.That(first.Commit, Is.EqualTo(commit));
        Assert.That(first.Warnings, Is.EqualTo(expected));
        Assert.That(second.Warnings, Is.EqualTo(expected), "the applied commit's warnings, though this sync applied nothing");
        Assert.That(reconciler.Status.Warnings.Keys, Is.EqualTo(new[] { "web" }), "db has none");
        Assert.That(reconciler.Status.Warnings["web"], Is.EqualTo(expected));

        _repo.Commit("bad", ("db.service", "[Service]\nRestart=sometimes\n"));
        Assert.ThrowsAsync<CommitRejectedException>(() => reconciler.SyncAsync());

        Assert.That(reconciler.Status.Warnings["web"], Is.EqualTo(expected), "what runs is still the commit with these warnings");
    }

    [Test]
    public async Task A_branch_without_commits_syncs_to_nothing_and_its_first_commit_applies()
    {
        var (reconciler, supervisor) = Create();

        var empty = await reconciler.SyncAsync();
        var first = _repo.Commit("first", ("web.service", Unit(Sleep("web"))));
        var applied = await reconciler.SyncIfChangedAsync();

        Assert.That((empty.Commit, empty.ReloadedCount, empty.Warnings), Is.EqualTo((string.Empty, 0, Array.Empty<string>())));
        Assert.That(applied?.Commit, Is.EqualTo(first));
        Assert.That(supervisor.GetStatus("web").Status, Is.EqualTo(ServiceStatus.Running));
    }

    [Test]
    public async Task Sync_fetches_the_remote_first_so_a_pushed_commit_applies_at_once()
    {
        var remote = Path.Combine(_repo.Root, "remote.git");
        _repo.GitIn(_repo.Root, "init", "-q", "--bare", "-b", "main", remote);
        _repo.Commit("v1", ("web.service", Unit(Sleep("web1"))));
        _repo.Git("push", "-q", remote, "main");
        var upstream = Path.Combine(_repo.Root, "upstream");
        _repo.GitIn(_repo.Root, "clone", "-q", remote, upstream);
        var (reconciler, supervisor) = Create(configure: o =>
        {
            o.Git.RemoteUrl = new Uri(remote).AbsoluteUri;
            o.Git.FetchInterval = TimeSpan.FromHours(1);
        });
        await reconciler.SyncAsync();

        var pushed = _repo.CommitIn(upstream, "v2", ("web.service", Unit(Sleep("web2"))), ("api.service", Unit(Sleep("api"))));
        _repo.GitIn(upstream, "push", "-q", "origin", "main");
        var sync = await reconciler.SyncAsync();

        Assert.That(sync.Commit, Is.EqualTo(pushed));
        Assert.That((sync.Changes.Started, sync.Changes.Restarted), Is.EqualTo((new[] { "api" }, new[] { "web" })));
        Assert.That(_repo.Git("rev-parse", "main"), Is.EqualTo(pushed), "the local branch was fast-forwarded");
        Assert.That(supervisor.ListServices().Select(s => s.Name).Order(), Is.EqualTo(new[] { "api", "web" }));
    }
}
