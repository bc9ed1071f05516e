using GitProc.Supervision;
using GitProc.UnitFiles;

namespace GitProc.Targeting;

/// <summary>
/// What another host of the fleet would do with a set of units (<c>gitproc plan --host NAME</c>): the same verbs as a
/// daemon's own plan, decided by the units alone.
/// </summary>
/// <remarks>
/// A daemon knows its own services, not another host's; what that host runs follows from the units it applied and its
/// name. So the plan assumes the host applied the same commit as this daemon (hosts following one branch do) and that
/// its services run as their units say: an operator's stop there, or a service failed there, is not known here.
/// </remarks>
internal static class HostPlan
{
    /// <summary>Applying <paramref name="next"/> on <paramref name="host"/>, which runs <paramref name="applied"/> where their conditions let it.</summary>
    public static ApplyPlan For(IReadOnlyCollection<UnitFile> applied, IReadOnlyCollection<UnitFile> next, HostIdentity host)
    {
        var before = applied.ToDictionary(u => u.Name, StringComparer.Ordinal);
        var after = next.ToDictionary(u => u.Name, StringComparer.Ordinal);
        var changes = new List<PlannedChange>(before.Count + after.Count);
        foreach (var name in before.Keys.Union(after.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var old = before.GetValueOrDefault(name);
            var oldUnmet = old is null ? null : HostTargeting.Unmet(old, host);
            if (!after.TryGetValue(name, out var unit))
            {
                changes.Add(new PlannedChange(name, PlannedAction.Stop, [], oldUnmet));
                continue;
            }

            var unmet = HostTargeting.Unmet(unit, host);
            var oldRuns = old is not null && oldUnmet is null;
            changes.Add(
                unmet is not null ? new PlannedChange(name, oldRuns ? PlannedAction.Stop : PlannedAction.Unchanged, [], unmet)
                : old is null ? new PlannedChange(name, PlannedAction.Start, [])
                : !oldRuns ? new PlannedChange(name, PlannedAction.Start, [], HostTargeting.NowMet(host, UnitDefinition.ChangedKeys(old, unit)))
                : UnitDefinition.Same(old, unit) ? new PlannedChange(name, PlannedAction.Unchanged, [])
                : new PlannedChange(name, PlannedAction.Restart, UnitDefinition.ChangedKeys(old, unit)));
        }

        return new ApplyPlan(changes);
    }
}
