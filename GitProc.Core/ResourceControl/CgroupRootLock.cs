using System.Runtime.Versioning;
using GitProc.Locking;
using GitProc.Processes;
using Microsoft.Extensions.Logging;

namespace GitProc.ResourceControl;

/// <summary>
/// One daemon per cgroup root: an exclusive <c>flock</c> on the root directory itself (for cgroup v1 the
/// memory hierarchy's, one hierarchy being enough), so a second daemon with another state but the same
/// <see cref="ResourceControlOptions.CgroupRoot"/> cannot sweep the first one's services as leftovers. cgroupfs
/// supports <c>flock</c> on its directories; where a file system does not, a lock file named after the root stands in.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class CgroupRootLock
{
    /// <summary>The name its descriptor is handed over under across an in-place upgrade.</summary>
    public const string InheritedName = "cgroup-lock";

    /// <summary>Takes the lock on <paramref name="root"/>.</summary>
    /// <exception cref="LockHeldException">Another process holds it; the message names its pid and the setting to change.</exception>
    /// <exception cref="ResourceControlException">The root (or the stand-in lock file) cannot be opened.</exception>
    public static ExclusiveLock Acquire(string root, ILogger logger)
    {
        try
        {
            // A re-executed daemon still holds it, through the descriptor its previous image handed over.
            if (SelfExec.TryTakeInherited(InheritedName, out var inherited))
            {
                return ExclusiveLock.FromInheritedDescriptor(inherited, root);
            }

            return ExclusiveLock.TryAcquireDirectory(root, out var holder) ?? throw Held(root, root, holder);
        }
        catch (NotSupportedException ex)
        {
            var standIn = StandInPath(root);
            Log.CgroupRootLockStandIn(logger, root, standIn, ex.Message);
            try
            {
                return ExclusiveLock.TryAcquireFile(standIn, out var holder) ?? throw Held(root, standIn, holder);
            }
            catch (Exception inner) when (inner is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                throw new ResourceControlException(null, standIn, $"Cannot lock the cgroup root {root} through {standIn}: {inner.Message}", inner);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ResourceControlException(null, root, $"Cannot lock the cgroup root {root}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The lock file used where the root directory cannot be locked: in <c>/run/lock</c> (shared by every daemon of
    /// the host, unlike a private <c>/tmp</c>), named after the root's path.
    /// </summary>
    internal static string StandInPath(string root) => Path.Combine(
        Directory.Exists("/run/lock") ? "/run/lock" : Path.GetTempPath(),
        "gitproc-cgroup" + Path.GetFullPath(root).Replace('/', '-') + ".lock");

    private static LockHeldException Held(string root, string lockPath, int? holder) => new(
        root,
        lockPath,
        holder,
        $"{LockHeldException.Holder(holder)} owns the cgroup root {root}; stop it first, or set ResourceControl:CgroupRoot to another cgroup for a second daemon.");
}
