using GitProc.Core.Tests.TestSupport;
using GitProc.Events;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests.Supervision;

/// <summary>
/// <c>ConditionHost=</c> in a real supervisor (real processes): a unit for another host is known but never started and
/// shows <c>stopped</c> with sub-state <c>condition</c>; a commit that moves it off this host stops it, one that moves it
/// here starts it; the plan says so beforehand; and, as in systemd, a failed condition fails nothing that depends on it.
/// </summary>
[TestFixture]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Platform(Include = "Linux")]
[CancelAfter(60_000)]
public sealed class SupervisorTargetingTests : SupervisorFixture
{
    private string _sleeper = null!;

    [SetUp]
    public void SetUp() => _sleeper = Harness.Script("sleeper.sh", "exec sleep 300");

    private ISupervisor SupervisorOn(string hostName) =>
        Harness.CreateSupervisor(configure: s => s.Configure<GitProcOptions>(o => o.HostName = hostName));

    private GitProc.UnitFiles.UnitFile Unit(string name, string unitLines = "", string serviceLines = "") =>
        SupervisorHarness.Unit(name, $"[Unit]\n{unitLines}\n[Service]\nExecStart={_sleeper}\n{serviceLines}\n");

    [Test]
    public async Task A_unit_for_another_host_is_known_but_not_started_and_shows_why()
    {
        await using var supervisor = SupervisorOn("web-1");
        GitProc.UnitFiles.UnitFile[] units = [Unit("web", "ConditionHost=web-*"), Unit("db", "ConditionHost=db-*"), Unit("common")];

        var plan = supervisor.Plan(units);
        var result = await supervisor.ApplyAsync(units, "c1");

        Assert.That(plan.Changes, Is.EqualTo(new[]
        {
            new PlannedChange("common", PlannedAction.Start, []),
            new PlannedChange("db", PlannedAction.Unchanged, [], "ConditionHost=db-* is not met on host web-1"),
            new PlannedChange("web", PlannedAction.Start, []),
        }).Using<PlannedChange>(SameChange));
        Assert.That(result.Started, Is.EqualTo(new[] { "common", "web" }));
        Assert.That(result.Unchanged, Is.EqualTo(new[] { "db" }));
        var db = supervisor.GetStatus("db");
        Assert.That((db.Status, db.SubState, db.Pid), Is.EqualTo((ServiceStatus.Stopped, "condition", (int?)null)));
        Assert.That(db.UnmetCondition, Is.EqualTo("ConditionHost=db-* is not met on host web-1"));
        Assert.That(supervisor.GetStatus("web").UnmetCondition, Is.Null);
        Assert.That(Harness.Survivors(), Has.Count.EqualTo(2), "one process each for web and common, none for db");
    }

    [Test]
    public async Task An_operators_start_or_restart_of_a_unit_for_another_host_is_refused_and_changes_nothing()
    {
        await using var supervisor = SupervisorOn("web-1");
        await supervisor.ApplyAsync([Unit("db", "ConditionHost=db-*")], "c1");

        var start = Assert.ThrowsAsync<ServiceOperationException>(() => supervisor.StartAsync("db"))!;
        var restart = Assert.ThrowsAsync<ServiceOperationException>(() => supervisor.RestartAsync("db"))!;

        Assert.That(start.Message, Is.EqualTo("Service db was not started: ConditionHost=db-* is not met on host web-1"));
        Assert.That((start.Code, restart.Code), Is.EqualTo((GitProcErrorCodes.ConditionFailed, GitProcErrorCodes.ConditionFailed)));
        Assert.That(supervisor.GetStatus("db").SubState, Is.EqualTo("condition"));
        Assert.That(Harness.Survivors(), Is.Empty);
    }

    [Test]
    public async Task A_commit_moving_a_unit_off_this_host_stops_it_and_one_moving_it_back_starts_it()
    {
        await using var supervisor = SupervisorOn("web-1");
        var events = Harness.LastProvider.GetRequiredService<IEventStream>();
        await supervisor.ApplyAsync([Unit("api", "ConditionHost=web-*")], "c1");
        var pid = supervisor.GetStatus("api").Pid!.Value;
        using var subscription = events.Subscribe(EventFilter.All);

        GitProc.UnitFiles.UnitFile[] away = [Unit("api", "ConditionHost=api-*")];
        var stopPlan = supervisor.Plan(away);
        var stopped = await supervisor.ApplyAsync(away, "c2");

        Assert.That(stopPlan.Changes.Single(), Is.EqualTo(new PlannedChange("api", PlannedAction.Stop, [], "ConditionHost=api-* is not met on host web-1")).Using<PlannedChange>(SameChange));
        Assert.That(stopped.Stopped, Is.EqualTo(new[] { "api" }));
        Assert.That(ProcScan.IsAlive(pid), Is.False, "its process is gone");
        var status = supervisor.GetStatus("api");
        Assert.That((status.Status, status.SubState), Is.EqualTo((ServiceStatus.Stopped, "condition")), "still known, and says why it does not run");
        var change = await NextStateEventAsync(subscription, e => e.ToSubState == "condition");
        Assert.That(change.Reason, Is.EqualTo("ConditionHost=api-* is not met on host web-1"));

        GitProc.UnitFiles.UnitFile[] back = [Unit("api", "ConditionHost=|web-*\nConditionHost=|api-*")];
        var startPlan = supervisor.Plan(back);
        var started = await supervisor.ApplyAsync(back, "c3");

        Assert.That(startPlan.Changes.Single(), Is.EqualTo(new PlannedChange("api", PlannedAction.Start, [], "its ConditionHost= is now met on host web-1 (changed: ConditionHost)")).Using<PlannedChange>(SameChange));
        Assert.That(started.Started, Is.EqualTo(new[] { "api" }));
        Assert.That(supervisor.GetStatus("api"), Has.Property(nameof(ServiceSnapshot.Status)).EqualTo(ServiceStatus.Running)
            .And.Property(nameof(ServiceSnapshot.UnmetCondition)).Null);
    }

    [Test]
    public async Task A_change_to_a_unit_that_runs_elsewhere_before_and_after_touches_nothing_here()
    {
        await using var supervisor = SupervisorOn("web-1");
        await supervisor.ApplyAsync([Unit("db", "ConditionHost=db-*"), Unit("web")], "c1");
        var web = supervisor.GetStatus("web").Pid;

        GitProc.UnitFiles.UnitFile[] next = [Unit("db", "ConditionHost=db-*", "Environment=V=2"), Unit("web")];
        var plan = supervisor.Plan(next);
        var result = await supervisor.ApplyAsync(next, "c2");

        Assert.That(plan.Of(PlannedAction.Unchanged), Is.EqualTo(new[] { "db", "web" }));
        Assert.That(result.ChangedCount, Is.Zero);
        Assert.That(supervisor.GetStatus("db").SubState, Is.EqualTo("condition"));
        Assert.That(supervisor.GetStatus("web").Pid, Is.EqualTo(web));
    }

    [Test]
    public async Task What_requires_a_unit_for_another_host_still_starts_as_in_systemd()
    {
        await using var supervisor = SupervisorOn("web-1");

        // The dependency even has a health check, which nothing will ever answer here: no one waits for it.
        await supervisor.ApplyAsync(
        [
            Unit("app", "Requires=db\nAfter=db"),
            Unit("db", "ConditionHost=db-*", "HealthCheckURL=http://127.0.0.1:9/health"),
        ], "c1");

        Assert.That(supervisor.GetStatus("app").Status, Is.EqualTo(ServiceStatus.Running));
        Assert.That(supervisor.GetStatus("db").SubState, Is.EqualTo("condition"));

        // An operator's start of the dependent, which starts its dependencies first, does too.
        await supervisor.StopAsync("app");
        Assert.That((await supervisor.StartAsync("app")).Status, Is.EqualTo(ServiceStatus.Running));
        Assert.That(supervisor.GetStatus("db").SubState, Is.EqualTo("condition"));
    }

    [Test]
    public async Task A_daemon_restarted_under_another_host_name_stops_what_no_longer_belongs_here()
    {
        GitProc.UnitFiles.UnitFile[] units = [Unit("web", "ConditionHost=web-1"), Unit("common")];
        var first = SupervisorOn("web-1");
        await first.InitializeAsync();
        await first.ApplyAsync(units, "c1");
        var pids = first.ListServices().ToDictionary(s => s.Name, s => s.Pid!.Value);

        // The first daemon "crashed" (never disposed until the end); the next one runs with another HostName.
        var second = SupervisorOn("web-2");
        await second.InitializeAsync();
        var plan = second.Plan(units);
        var result = await second.ApplyAsync(units, "c1");

        Assert.That(plan.Changes.First(c => c.Service == "web"), Is.EqualTo(new PlannedChange("web", PlannedAction.Stop, [], "ConditionHost=web-1 is not met on host web-2")).Using<PlannedChange>(SameChange));
        Assert.That(result.Stopped, Is.EqualTo(new[] { "web" }));
        Assert.That(ProcScan.IsAlive(pids["web"]), Is.False);
        Assert.That(second.GetStatus("common").Pid, Is.EqualTo(pids["common"]), "what runs everywhere is taken over as it is");
        Assert.That(second.GetStatus("web").SubState, Is.EqualTo("condition"));
        await second.DisposeAsync();
        await first.DisposeAsync();
    }

    private static bool SameChange(PlannedChange a, PlannedChange b) =>
        a.Service == b.Service && a.Action == b.Action && a.ChangedKeys.SequenceEqual(b.ChangedKeys) && a.Reason == b.Reason;

    private static async Task<GitProcEvent> NextStateEventAsync(IEventSubscription subscription, Func<GitProcEvent, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await foreach (var e in subscription.ReadAllAsync(timeout.Token))
        {
            if (e.Type == EventTypes.ServiceRecord && match(e))
            {
                return e;
            }
        }

        throw new AssertionException("the stream ended without the event");
    }
}
