namespace GitProc.ResourceControl;

/// <summary>
/// Per-service cgroups under a configurable root (<see cref="ResourceControlOptions.CgroupRoot"/>): cgroup v2 where
/// the unified hierarchy has the memory, cpu and pids controllers, else cgroup v1. Where cgroups cannot be used
/// (not root, read-only, disabled), services still run without limits and <see cref="Status"/> says so.
/// </summary>
public interface IResourceController
{
    /// <summary>
    /// Which backend is in use and, when none, why. The host is examined once, on first use of the controller,
    /// and the outcome logged.
    /// </summary>
    ResourceControlStatus Status { get; }

    /// <summary>
    /// Creates (or takes over) the cgroup of <paramref name="service"/> with <paramref name="limits"/>. A process
    /// joins it by writing <c>0</c> into every file of <see cref="IServiceCgroup.JoinFiles"/> before it executes
    /// the service's command. Processes left in an existing cgroup of that name (from a daemon that died) are
    /// killed first, so a service never runs twice.
    /// </summary>
    /// <param name="service">The service name (<c>[A-Za-z0-9:_.@-]</c>, not starting with <c>.</c>); also the cgroup's name.</param>
    /// <param name="limits">The limits to apply.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>
    /// The cgroup, or <see langword="null"/> when cgroups are not enforced on this host: the caller then runs the
    /// service without one, and a warning is logged (once per service) when it asked for limits.
    /// </returns>
    /// <exception cref="ResourceControlException">The cgroup could not be created or configured; the message names the file and value.</exception>
    Task<IServiceCgroup?> CreateAsync(string service, ResourceLimits limits, CancellationToken cancellationToken = default);
}
