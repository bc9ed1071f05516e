namespace GitProc.ResourceControl;

/// <summary>A service cgroup that <see cref="IResourceController.SweepAsync"/> removed.</summary>
/// <param name="Service">The cgroup's (and service's) name.</param>
/// <param name="Pids">The processes that were still in it and were stopped.</param>
public sealed record SweptCgroup(string Service, IReadOnlyList<int> Pids);
