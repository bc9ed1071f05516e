using System.Runtime.Versioning;
using GitProc.Locking;
using GitProc.Processes;
using Microsoft.Extensions.Logging;

namespace GitProc.State;

/// <summary>
/// One daemon per state: the exclusive lock on <c>STATE.lock</c> beside the state file, which a daemon
/// takes before it touches anything (socket, state, services, cgroups) and holds for its whole life.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class StateLock
{
    /// <summary>The lock file's name is the state file's plus this.</summary>
    public const string Suffix = ".lock";

    /// <summary>The name its descriptor is handed over under across an in-place upgrade.</summary>
    public const string InheritedName = "state-lock";

    /// <summary>Takes the lock, creating the state's directory and the lock file when missing.</summary>
    /// <param name="statePath">The state file.</param>
    /// <param name="logger">Where a file system without <c>flock</c> is reported.</param>
    /// <returns>The lock; <see langword="null"/> when the file system cannot lock (then the daemon runs unguarded, and says so).</returns>
    /// <exception cref="LockHeldException">Another process holds it; the message names its pid.</exception>
    /// <exception cref="StateFileException">The lock file cannot be created or opened.</exception>
    public static ExclusiveLock? Acquire(string statePath, ILogger logger)
    {
        var path = Path.GetFullPath(statePath);
        var lockPath = path + Suffix;
        try
        {
            // A re-executed daemon still holds it, through the descriptor its previous image handed over.
            if (SelfExec.TryTakeInherited(InheritedName, out var inherited))
            {
                return ExclusiveLock.FromInheritedDescriptor(inherited, lockPath);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return ExclusiveLock.TryAcquireFile(lockPath, out var holder)
                ?? throw new LockHeldException(
                    path,
                    lockPath,
                    holder,
                    $"{LockHeldException.Holder(holder)} owns the state {path} (lock {lockPath}); stop it first or give this one its own --state.");
        }
        catch (NotSupportedException ex)
        {
            Log.StateLockUnsupported(logger, lockPath, ex.Message);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StateFileException(path, $"Cannot lock the state {path}: {ex.Message.TrimEnd('.')}. The daemon keeps the lock file {lockPath} beside the state file; make that directory writable or choose another --state.", ex);
        }
    }
}
