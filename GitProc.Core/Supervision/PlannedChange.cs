namespace GitProc.Supervision;

/// <summary>What applying a set of units does to one service, and why.</summary>
/// <param name="Service">The service.</param>
/// <param name="Action">What happens to it.</param>
/// <param name="ChangedKeys">For <see cref="PlannedAction.Restart"/>: the keys whose values differ, in file order.</param>
/// <param name="Reason">Why, where the action alone does not say (a dependency pulled in, an operator's stop).</param>
public sealed record PlannedChange(string Service, PlannedAction Action, IReadOnlyList<string> ChangedKeys, string? Reason = null);
