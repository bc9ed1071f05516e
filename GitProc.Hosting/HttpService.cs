using GitProc.Http;
using Microsoft.Extensions.Hosting;

namespace GitProc.Hosting;

/// <summary>
/// Serves metrics at <c>Metrics:Listen</c> or the status page at <c>Web:Listen</c> (nothing when unset). Registered
/// after <see cref="GitProcDaemonService"/>: it listens once this daemon owns its state and has recovered it, and stops
/// serving before the services stop.
/// </summary>
/// <typeparam name="TServer">The server.</typeparam>
internal sealed class HttpService<TServer>(TServer server) : IHostedService
    where TServer : IHttpServer
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        server.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await server.DisposeAsync().ConfigureAwait(false);
}
