using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using GitProc.Daemon;
using GitProc.Ipc;
using GitProc.Locking;
using GitProc.Reconciliation;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GitProc.Hosting;

/// <summary>
/// The daemon's life: on start, make this process the only daemon of its state and cgroup root and check that it can
/// work at all (<see cref="IDaemonStartup"/>), then claim the IPC socket (so a second daemon touches nothing), recover
/// the previous run's state, apply the watched branch, then serve clients; on stop, stop serving, then stop every
/// service in reverse dependency order within the host's shutdown timeout.
/// </summary>
/// <remarks>
/// <paramref name="startup"/> comes first so the container creates it before the other components and disposes it after
/// them: the state lock is held until the last state save.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class GitProcDaemonService(
    IDaemonStartup startup,
    ISupervisor supervisor,
    IReconciler reconciler,
    IIpcServer ipc,
    IInPlaceUpgrade upgrade,
    IOptions<PathOptions> options,
    ILogger<GitProcDaemonService> logger) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _hangUp;

    /// <exception cref="LockHeldException">Another daemon owns the state or the cgroup root; nothing was touched.</exception>
    /// <exception cref="IpcSocketInUseException">Another daemon owns the socket; nothing was touched.</exception>
    /// <exception cref="GitProcException">
    /// The daemon cannot work (no repository and nothing applied before, a directory it cannot write); nothing but the
    /// state lock was touched.
    /// </exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await startup.PrepareAsync(cancellationToken).ConfigureAwait(false);
        Log.AssembliesPreloaded(logger, AssemblyPreloader.LoadReferences(typeof(GitProcDaemonService).Assembly));

        await ipc.BindAsync(cancellationToken).ConfigureAwait(false);
        var initialized = false;
        try
        {
            var previous = await supervisor.InitializeAsync(cancellationToken).ConfigureAwait(false);
            initialized = true;
            Log.Recovered(logger, previous ?? "none");

            try
            {
                // The local tip, without fetching first: a daemon starting offline still runs what it has. The watch
                // loop fetches right after. If the tip is rejected, the previous run's last good commit is kept.
                var sync = await reconciler.ResumeAsync(previous, cancellationToken).ConfigureAwait(false);
                if (sync.Commit.Length == 0)
                {
                    Log.NoCommitYet(logger, reconciler.Status.Branch, options.Value.RepositoryPath);
                }
                else
                {
                    Log.InitialSync(logger, sync.Commit, sync.ReloadedCount);
                }
            }
            catch (GitProcException ex)
            {
                // A rejected tip or an unreadable object is not fatal: the last good commit keeps running, and
                // `gitproc sync` / `status` report the error until a good commit arrives.
                Log.InitialSyncFailed(logger, ex.Message, supervisor.ListServices().Count(s => s.Status == ServiceStatus.Running));
            }

            // SIGHUP (systemctl reload) and IPC reexec upgrade in place; without an executable to re-execute, SIGHUP
            // is caught anyway, so that it never ends the daemon and its services as its default action would.
            _hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                upgrade.Request();
            });
            if (upgrade.IsAvailable)
            {
                ipc.Reexec = upgrade.Request;
            }

            ipc.StartAccepting();
        }
        catch
        {
            await ipc.StopAsync(CancellationToken.None).ConfigureAwait(false);
            if (initialized)
            {
                await supervisor.StopAllAsync(CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }
    }

    public void Dispose() => _hangUp?.Dispose();

    /// <exception cref="GitProcException">
    /// The stop was not clean: the final state could not be saved. The services were stopped all the same; the daemon
    /// exits 1 with this message.
    /// </exception>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _hangUp?.Dispose();
        Log.Stopping(logger);
        await ipc.StopAsync(cancellationToken).ConfigureAwait(false);
        await supervisor.StopAllAsync(cancellationToken).ConfigureAwait(false);

        // Every service was stopped (StopAllAsync waits for each); what can still go wrong is the last save, and then
        // the next daemon would start from a state that says they run.
        if (supervisor.LastStateError is { } stateError)
        {
            var problem = $"the state could not be saved ({stateError.Message}), so the next daemon may find it out of date";
            Log.StoppedUnclean(logger, problem);
            throw new GitProcException($"The daemon stopped, but not cleanly: {problem}.");
        }

        Log.Stopped(logger);
    }
}
