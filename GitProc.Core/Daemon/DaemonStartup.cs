using System.Runtime.Versioning;
using GitProc.Locking;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Daemon;

/// <summary>
/// The default <see cref="IDaemonStartup"/>. The state lock (<see cref="StateLock"/>) is held from the very start until
/// the container is disposed: a singleton the daemon takes before the supervisor and the other components, so it is
/// disposed after them, once the last state save is done. (The cgroup root's lock belongs to the resource controller.)
/// An in-place upgrade passes <see cref="State"/>'s descriptor on to the new image.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class DaemonStartup(
    StartupChecks checks,
    IResourceController resources,
    IOptions<PathOptions> options,
    ILogger<DaemonStartup>? logger = null) : IDaemonStartup
{
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    /// <summary>The lock on the state, once taken (<see langword="null"/> before, or where the file system cannot lock).</summary>
    public ExclusiveLock? State { get; private set; }

    public async Task PrepareAsync(CancellationToken cancellationToken = default)
    {
        AcquireState();
        await checks.RunAsync(cancellationToken).ConfigureAwait(false);
        if (resources is ResourceController controller)
        {
            controller.ClaimRoot();
        }

        RaiseOpenFileLimit();
    }

    /// <summary>Takes the state lock (once).</summary>
    /// <exception cref="LockHeldException">Another daemon owns the state.</exception>
    /// <exception cref="StateFileException">The lock file cannot be created.</exception>
    private void AcquireState()
    {
        if (State is null)
        {
            State = StateLock.Acquire(options.Value.StatePath, _logger);
            if (State is not null)
            {
                Log.StateLocked(_logger, State.Path);
            }
        }
    }

    /// <summary>
    /// Many services cost the daemon descriptors (a pipe and a pidfd each, log files, cgroup files, clients), so it runs
    /// with its soft limit at the hard limit; its services get their own (see <see cref="FileDescriptorLimit"/>).
    /// </summary>
    private void RaiseOpenFileLimit()
    {
        var (before, after) = FileDescriptorLimit.RaiseSoftToHard();
        var services = FileDescriptorLimit.ServiceDefault.ToString();
        if (FileDescriptorLimit.OriginalUnknown)
        {
            services += " (the .NET runtime raised the soft limit before the daemon could read it, so services get the usual default 1024)";
        }

        // A thirty-second of the limit, between 8 and 32: room for the runtime, clients and state saves when starts run dry.
        var reserve = (int)Math.Clamp(after.Soft / 32, 8, 32);
        DescriptorReserve.Hold(reserve);
        Log.OpenFileLimit(_logger, before.Soft, before.Hard, after.Soft, reserve, services);
    }

    public void Dispose()
    {
        DescriptorReserve.Stop();
        State?.Dispose();
        State = null;
    }
}
