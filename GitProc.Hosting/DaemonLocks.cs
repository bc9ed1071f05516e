using System.Runtime.Versioning;
using GitProc.Locking;
using GitProc.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GitProc.Hosting;

/// <summary>
/// The daemon's lock on its state (<see cref="StateLock"/>), held from the very start of <see cref="GitProcDaemonService"/>
/// until the host's container is disposed: a singleton created before the supervisor and the other components, so it
/// is disposed after them, once the last state save is done. (The cgroup root's lock belongs to the resource
/// controller.) A daemon that re-executes itself passes <see cref="State"/>'s descriptor on to the new image.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class DaemonLocks(IOptions<PathOptions> options, ILogger<DaemonLocks> logger) : IDisposable
{
    /// <summary>The lock on the state, once taken (<see langword="null"/> before, or where the file system cannot lock).</summary>
    public ExclusiveLock? State { get; private set; }

    /// <summary>Takes the state lock (once).</summary>
    /// <exception cref="LockHeldException">Another daemon owns the state.</exception>
    /// <exception cref="StateFileException">The lock file cannot be created.</exception>
    public void AcquireState()
    {
        if (State is null)
        {
            State = StateLock.Acquire(options.Value.StatePath, logger);
            if (State is not null)
            {
                Log.StateLocked(logger, State.Path);
            }
        }
    }

    public void Dispose()
    {
        State?.Dispose();
        State = null;
    }
}
