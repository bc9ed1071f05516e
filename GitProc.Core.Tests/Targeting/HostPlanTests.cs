using GitProc.Supervision;
using GitProc.Targeting;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Targeting;

/// <summary>
/// What another host of the fleet would do with a commit (<c>plan --host</c>), decided by the units alone: the same
/// verbs as a daemon's own plan, with the unmet <c>ConditionHost=</c> as the reason where a unit does not run there.
/// </summary>
public class HostPlanTests
{
    private const string MachineId = "0123456789abcdef0123456789abcdef";

    private static UnitFile Unit(string name, string unitLines = "", string serviceLines = "") =>
        UnitFileParser.Parse(name + ".service", $"[Unit]\n{unitLines}\n[Service]\nExecStart=/usr/bin/{name}\n{serviceLines}\n");

    private static string Render(ApplyPlan plan) => string.Join("\n", plan.Changes.Select(c =>
        $"{c.Action.ToString().ToLowerInvariant()} {c.Service}"
        + (c.ChangedKeys.Count > 0 ? $" ({string.Join(", ", c.ChangedKeys)})" : "")
        + (c.Reason is null ? "" : $" [{c.Reason}]")));

    [Test]
    public void Each_unit_is_started_restarted_stopped_or_left_as_the_host_would_by_its_conditions()
    {
        UnitFile[] applied =
        [
            Unit("common"),
            Unit("web", "ConditionHost=web-*"),
            Unit("db", "ConditionHost=db-*"),
            Unit("moving", "ConditionHost=web-*"),
            Unit("arriving", "ConditionHost=db-*"),
            Unit("gone"),
            Unit("gone-elsewhere", "ConditionHost=db-*"),
        ];
        UnitFile[] next =
        [
            Unit("common", serviceLines: "Environment=V=2"),
            Unit("web", "ConditionHost=web-*", "Environment=V=2"),
            Unit("db", "ConditionHost=db-*"),
            Unit("moving", "ConditionHost=db-*"),
            Unit("arriving", "ConditionHost=web-*"),
            Unit("fresh", "ConditionHost=web-[0-9]"),
            Unit("fresh-elsewhere", "ConditionHost=db-*"),
        ];

        var plan = HostPlan.For(applied, next, new HostIdentity("web-1", null));

        Assert.That(Render(plan), Is.EqualTo(string.Join("\n",
            "start arriving [its ConditionHost= is now met on host web-1 (changed: ConditionHost)]",
            "restart common (Environment)",
            "unchanged db [ConditionHost=db-* is not met on host web-1]",
            "start fresh",
            "unchanged fresh-elsewhere [ConditionHost=db-* is not met on host web-1]",
            "stop gone",
            "stop gone-elsewhere [ConditionHost=db-* is not met on host web-1]",
            "stop moving [ConditionHost=db-* is not met on host web-1]",
            "restart web (Environment)")));
    }

    [Test]
    public void A_machine_id_condition_is_decided_by_the_machine_id_given_for_the_host()
    {
        UnitFile[] next = [Unit("pinned", "ConditionHost=" + MachineId)];

        Assert.That(Render(HostPlan.For([], next, new HostIdentity("any", MachineId))), Is.EqualTo("start pinned"));
        Assert.That(
            Render(HostPlan.For([], next, new HostIdentity("any", null))),
            Is.EqualTo($"unchanged pinned [ConditionHost={MachineId} cannot be checked on host any: its machine id is unknown]"));
    }
}
