namespace GitProc.Supervision;

/// <summary>What <see cref="ISupervisor.ApplyAsync"/> changed.</summary>
/// <param name="Started">Services added and started.</param>
/// <param name="Restarted">Services whose unit changed and that were restarted.</param>
/// <param name="Stopped">Services removed, stopped and forgotten.</param>
/// <param name="Unchanged">Services left alone.</param>
public sealed record ApplyResult(
    IReadOnlyList<string> Started,
    IReadOnlyList<string> Restarted,
    IReadOnlyList<string> Stopped,
    IReadOnlyList<string> Unchanged)
{
    /// <summary>How many services were started, restarted or stopped.</summary>
    public int ChangedCount => Started.Count + Restarted.Count + Stopped.Count;
}
