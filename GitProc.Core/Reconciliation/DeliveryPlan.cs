using GitProc.Supervision;

namespace GitProc.Reconciliation;

/// <summary>What applying a commit would do (<see cref="IReconciler.PlanAsync"/>), or why it would be rejected.</summary>
/// <param name="Commit">The commit's full hash.</param>
/// <param name="Plan">What applying it would do, service by service; <see langword="null"/> when it would be rejected.</param>
/// <param name="Errors">Why it would be rejected (invalid units, a cycle, a missing required unit); empty when it would apply.</param>
public sealed record DeliveryPlan(string Commit, ApplyPlan? Plan, IReadOnlyList<string> Errors)
{
    /// <summary>
    /// The host the plan is for: this daemon's <see cref="GitProcOptions.HostName"/>, or the host given to
    /// <see cref="IReconciler.PlanForHostAsync"/>; <see langword="null"/> when not said.
    /// </summary>
    public string? Host { get; init; }
}
