using GitProc.UnitFiles;

namespace GitProc.Targeting;

/// <summary>Whether a unit runs on a host: systemd's rule for a unit's conditions, applied to its <c>ConditionHost=</c>.</summary>
internal static class HostTargeting
{
    /// <summary>
    /// Why <paramref name="unit"/> does not run on <paramref name="host"/>, or <see langword="null"/> when it does: every
    /// condition without <c>|</c> must hold, and, when some have <c>|</c>, at least one of those (systemd.unit(5)). A
    /// condition that cannot be checked (a machine id on a host whose id is unknown) does not hold, as in systemd.
    /// </summary>
    public static string? Unmet(UnitFile unit, HostIdentity host)
    {
        var conditions = unit.ConditionHost;
        if (conditions.Count == 0)
        {
            return null;
        }

        List<HostCondition>? triggers = null;
        var triggered = false;
        foreach (var condition in conditions)
        {
            var holds = condition.HoldsOn(host.HostName, host.MachineId);
            if (condition.Triggering)
            {
                (triggers ??= []).Add(condition);
                triggered |= holds == true;
            }
            else if (holds != true)
            {
                return Describe(condition, holds, host);
            }
        }

        if (triggers is null || triggered)
        {
            return null;
        }

        return triggers.Count == 1
            ? Describe(triggers[0], triggers[0].HoldsOn(host.HostName, host.MachineId), host)
            : $"none of {string.Join(", ", triggers)} is met on host {host.HostName}";
    }

    /// <summary>Why a unit that did not run on a host starts there: a change made its <c>ConditionHost=</c> hold.</summary>
    public static string NowMet(HostIdentity host, IReadOnlyList<string> changedKeys) =>
        $"its ConditionHost= is now met on host {host.HostName} (changed: {string.Join(", ", changedKeys)})";

    private static string Describe(HostCondition condition, bool? holds, HostIdentity host) => holds is null
        ? $"{condition} cannot be checked on host {host.HostName}: its machine id is unknown"
        : condition.MachineId is null
            ? $"{condition} is not met on host {host.HostName}"
            : $"{condition} is not met on host {host.HostName} (machine id {host.MachineId})";
}
