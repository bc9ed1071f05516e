using System.Runtime.Versioning;
using GitProc.Daemon;
using GitProc.Ipc;
using GitProc.Reconciliation;
using GitProc.Supervision;
using Microsoft.Extensions.Hosting;

namespace GitProc.Core.Tests.Hosting;

/// <summary>
/// The whole GitOps loop as an application would run it in its own Generic Host without GitProc.Hosting, through
/// GitProc.Core's public interfaces only: the start-up guard, the control socket, recovery, the first apply, watching,
/// and a clean stop.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class EmbeddedGitOpsLoop(IDaemonStartup startup, ISupervisor supervisor, IReconciler reconciler, IIpcServer ipc)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await startup.PrepareAsync(cancellationToken);
        await ipc.BindAsync(cancellationToken);
        var previous = await supervisor.InitializeAsync(cancellationToken);
        await reconciler.ResumeAsync(previous, cancellationToken);
        ipc.StartAccepting();
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => reconciler.WatchAsync(stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Watching ends first, so no commit is applied while the services stop.
        await base.StopAsync(cancellationToken);
        await ipc.StopAsync(cancellationToken);
        await supervisor.StopAllAsync(cancellationToken);
    }
}
