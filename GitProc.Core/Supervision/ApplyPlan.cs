namespace GitProc.Supervision;

/// <summary>
/// What <see cref="ISupervisor.ApplyAsync"/> would do with a set of units, service by service, ordered by name: the
/// apply itself follows this very plan, so a plan taken just before an apply is what the apply does.
/// </summary>
/// <param name="Changes">One entry per service of the current and the new set.</param>
public sealed record ApplyPlan(IReadOnlyList<PlannedChange> Changes)
{
    /// <summary>The services of one action, ordered by name.</summary>
    /// <param name="action">The action.</param>
    /// <returns>Their names.</returns>
    public IReadOnlyList<string> Of(PlannedAction action) => [.. Changes.Where(c => c.Action == action).Select(c => c.Service)];
}
