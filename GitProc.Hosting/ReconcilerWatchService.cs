using GitProc.Reconciliation;
using Microsoft.Extensions.Hosting;

namespace GitProc.Hosting;

/// <summary>
/// Applies new commits on the watched branch as they arrive (and fetches the remote when one is configured).
/// Registered after <see cref="GitProcDaemonService"/>, so it starts after the initial sync and stops before the
/// services are stopped. An application that registered its own <see cref="IReconciler"/> owns its watching.
/// </summary>
internal sealed class ReconcilerWatchService(IReconciler reconciler) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        reconciler is Reconciler ours ? ours.WatchAsync(stoppingToken) : Task.CompletedTask;
}
