using System.Runtime.Versioning;
using Microsoft.Extensions.Hosting;

namespace EmbeddedGitOps;

/// <summary>Builds the application's host (the program runs it; the tests start and stop it).</summary>
internal static class EmbeddedGitOpsHost
{
    /// <param name="directory">Where the application keeps its units repository, state, logs and socket.</param>
    /// <param name="args">Command-line configuration (<c>--GitProc:WatchBranch=production</c>, say).</param>
    [SupportedOSPlatform("linux")]
    public static IHost Build(string directory, string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddEmbeddedGitOps(builder.Configuration, SampleLayout.For(directory));
        return builder.Build();
    }
}
