using System.Runtime.ExceptionServices;
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

    /// <summary>
    /// Stops watching; if watching failed (which stopped the host), rethrows that failure. The .NET 10 host logs a failed
    /// background service and stops, but then completes <c>RunAsync</c> as if all went well (.NET 11 changes that);
    /// rethrown from here, the failure reaches the host's caller, and the daemon exits 1 rather than 0.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (ExecuteTask is { IsFaulted: true, Exception.InnerException: { } failure })
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }
}
