using GitProc.Http;
using Microsoft.Extensions.Hosting;

namespace GitProc.Hosting;

/// <summary>
/// Serves every registered <see cref="IHttpServer"/>: metrics at <c>Metrics:Listen</c>, the status page at
/// <c>Web:Listen</c> (nothing when unset). Registered after <see cref="GitProcDaemonService"/>: it listens once this
/// daemon owns its state and has recovered it, and stops serving before the services stop.
/// </summary>
internal sealed class HttpService(IEnumerable<IHttpServer> servers) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var server in servers)
        {
            server.Start();
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var server in servers.Reverse())
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
