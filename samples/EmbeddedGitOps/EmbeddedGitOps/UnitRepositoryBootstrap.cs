using GitProc.Git;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EmbeddedGitOps;

/// <summary>
/// Creates the unit repository on the application's first start. Registered before GitProc's daemon service, so it
/// runs first: the daemon refuses to start without a repository (or units applied by an earlier run), and it starts
/// fine on an empty one, then applies the first commit pushed or made there.
/// </summary>
internal sealed partial class UnitRepositoryBootstrap(IGitIntegration git, ILogger<UnitRepositoryBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await HasRepositoryAsync(cancellationToken))
        {
            return;
        }

        await git.InitAsync(cancellationToken: cancellationToken);
        LogCreated(logger, git.RepositoryPath);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<bool> HasRepositoryAsync(CancellationToken cancellationToken)
    {
        try
        {
            // An empty repository (its branch not born yet) answers null; only a missing one throws.
            _ = await git.GetBranchTipAsync(cancellationToken: cancellationToken);
            return true;
        }
        catch (GitException)
        {
            // No repository, or one that cannot be read: InitAsync creates the first and refuses the second, saying so.
            return false;
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Created the unit repository {Path}: commit NAME.service files to its main branch to run them")]
    private static partial void LogCreated(ILogger logger, string path);
}
