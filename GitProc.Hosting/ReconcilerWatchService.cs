using GitProc.Reconciliation;
using Microsoft.Extensions.Hosting;

namespace GitProc.Hosting;

/// <summary>
/// Applies new commits on the watched branch as they arrive (and fetches the remote when one is configured), through
/// whichever <see cref="IReconciler"/> is registered: one an application registered instead of GitProc's watches in its
/// own <see cref="IReconciler.WatchAsync"/>. Registered after <see cref="GitProcDaemonService"/>, so it starts after the
/// initial sync and stops before the services are stopped.
/// </summary>
internal sealed class ReconcilerWatchService(IReconciler reconciler) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => reconciler.WatchAsync(stoppingToken);
}
