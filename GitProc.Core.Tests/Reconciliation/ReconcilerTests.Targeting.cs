using GitProc.Core.Tests.TestSupport;
using GitProc.Reconciliation;
using GitProc.State;
using GitProc.Supervision;
using GitProc.Targeting;

namespace GitProc.Core.Tests.Reconciliation;

/// <summary>
/// Commits that move units between hosts with <c>ConditionHost=</c>: what sync reports, what runs, and what <c>plan</c>
/// predicts for this host and for another one.
/// </summary>
public sealed partial class ReconcilerTests
{
    private (Reconciler Reconciler, ISupervisor Supervisor) CreateOn(string hostName) => Create(configure: o => o.HostName = hostName);

    private string TargetedUnit(string name, string unitLines = "", string serviceLines = "") =>
        $"[Unit]\n{unitLines}\n[Service]\nExecStart={Sleep(name)}\n{serviceLines}\n";

    [Test]
    public async Task A_commit_flipping_a_condition_stops_the_service_here_and_the_next_one_starts_it_again()
    {
        _repo.Commit("api on web hosts", ("api.service", TargetedUnit("api", "ConditionHost=web-*")), ("db.service", TargetedUnit("db", "ConditionHost=db-*")));
        var (reconciler, supervisor) = CreateOn("web-1");
        var first = await reconciler.SyncAsync();
        var pid = supervisor.GetStatus("api").Pid!.Value;

        Assert.That(first.Changes.Started, Is.EqualTo(new[] { "api" }), "db is for db hosts");
        Assert.That(supervisor.GetStatus("db").SubState, Is.EqualTo("condition"));

        _repo.Commit("api moves to db hosts", ("api.service", TargetedUnit("api", "ConditionHost=db-*")));
        var moved = await reconciler.SyncAsync();

        Assert.That(moved.Changes.Stopped, Is.EqualTo(new[] { "api" }));
        Assert.That(ProcScan.IsAlive(pid), Is.False);
        Assert.That(supervisor.GetStatus("api"), Has.Property(nameof(ServiceSnapshot.Status)).EqualTo(ServiceStatus.Stopped)
            .And.Property(nameof(ServiceSnapshot.SubState)).EqualTo("condition")
            .And.Property(nameof(ServiceSnapshot.UnmetCondition)).EqualTo("ConditionHost=db-* is not met on host web-1"));

        _repo.Commit("api back on every host", ("api.service", TargetedUnit("api")));
        var back = await reconciler.SyncAsync();

        Assert.That(back.Changes.Started, Is.EqualTo(new[] { "api" }));
        Assert.That(supervisor.GetStatus("api").Status, Is.EqualTo(ServiceStatus.Running));
    }

    [Test]
    public async Task Plan_for_another_host_says_what_that_host_would_do_and_plan_for_this_one_what_this_one_does()
    {
        _repo.Commit(
            "fleet",
            ("common.service", TargetedUnit("common")),
            ("web.service", TargetedUnit("web", "ConditionHost=web-*")),
            ("db.service", TargetedUnit("db", "ConditionHost=db-*")));
        var (reconciler, _) = CreateOn("web-1");
        await reconciler.SyncAsync();
        var next = _repo.Commit(
            "db v2, a cache for db hosts",
            ("db.service", TargetedUnit("db", "ConditionHost=db-*", "Environment=V=2")),
            ("cache.service", TargetedUnit("cache", "ConditionHost=db-*")));

        var there = await reconciler.PlanForHostAsync(next, new HostIdentity("db-1", null));
        var here = await reconciler.PlanAsync(next);

        Assert.That(there.Host, Is.EqualTo("db-1"));
        Assert.That(there.Plan!.Changes.Select(c => (c.Service, c.Action, c.Reason)), Is.EqualTo(new[]
        {
            ("cache", PlannedAction.Start, (string?)null),
            ("common", PlannedAction.Unchanged, null),
            ("db", PlannedAction.Restart, null),
            ("web", PlannedAction.Unchanged, "ConditionHost=web-* is not met on host db-1"),
        }));
        Assert.That(here.Host, Is.EqualTo("web-1"));
        Assert.That(here.Plan!.Changes.Select(c => (c.Service, c.Action, c.Reason)), Is.EqualTo(new[]
        {
            ("cache", PlannedAction.Unchanged, "ConditionHost=db-* is not met on host web-1"),
            ("common", PlannedAction.Unchanged, (string?)null),
            ("db", PlannedAction.Unchanged, "ConditionHost=db-* is not met on host web-1"),
            ("web", PlannedAction.Unchanged, null),
        }));
    }
}
