using GitProc.Metrics;
using Microsoft.Extensions.Hosting;

namespace GitProc.Hosting;

/// <summary>
/// Serves the metrics at <c>Metrics:Listen</c> (nothing when unset). Registered after
/// <see cref="GitProcDaemonService"/>: it listens once this daemon owns its state and has recovered it, and stops
/// serving before the services stop.
/// </summary>
internal sealed class MetricsService(MetricsServer server) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        server.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await server.DisposeAsync().ConfigureAwait(false);
}
