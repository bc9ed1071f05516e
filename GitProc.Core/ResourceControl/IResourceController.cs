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

    /// <summary>
    /// Like <see cref="CreateAsync"/>, but for a service whose running process is being taken over from a daemon that
    /// died or re-executed itself: the existing cgroup is kept with everything in it (created when missing) and gets
    /// <paramref name="limits"/>.
    /// </summary>
    /// <param name="service">The service name; also the cgroup's name.</param>
    /// <param name="limits">The limits to apply.</param>
    /// <param name="cancellationToken">Cancels the attachment.</param>
    /// <returns>The cgroup, or <see langword="null"/> when cgroups are not enforced on this host.</returns>
    /// <exception cref="ResourceControlException">The cgroup could not be created or configured.</exception>
    Task<IServiceCgroup?> AttachAsync(string service, ResourceLimits limits, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes every service cgroup under the root except those of <paramref name="keep"/>, stopping what runs in them
    /// first (SIGTERM, then SIGKILL after <see cref="ResourceControlOptions.RemoveTimeout"/>): after a daemon restart,
    /// what a previous daemon left there belongs to no service this one runs.
    /// </summary>
    /// <param name="keep">The services whose cgroups stay (the ones running).</param>
    /// <param name="cancellationToken">Cancels the sweep.</param>
    /// <returns>The cgroups removed, each with the processes that were stopped in it; empty when cgroups are not enforced.</returns>
    /// <exception cref="ResourceControlException">A cgroup could not be emptied or removed.</exception>
    Task<IReadOnlyList<SweptCgroup>> SweepAsync(IReadOnlySet<string> keep, CancellationToken cancellationToken = default);
}
