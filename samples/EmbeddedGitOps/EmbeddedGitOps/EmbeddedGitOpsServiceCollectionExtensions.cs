using System.Runtime.Versioning;
using GitProc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EmbeddedGitOps;

/// <summary>The application's registrations: GitProc's daemon with the application's paths, and its own services.</summary>
internal static class EmbeddedGitOpsServiceCollectionExtensions
{
    [SupportedOSPlatform("linux")]
    public static IServiceCollection AddEmbeddedGitOps(this IServiceCollection services, IConfiguration configuration, SampleLayout layout)
    {
        // First, so the repository exists before GitProc's daemon service checks for it (hosted services start in
        // the order they were added).
        services.AddHostedService<UnitRepositoryBootstrap>();

        // The whole loop: supervisor, Git watcher and reconciler, control socket. The "GitProc" configuration section
        // (appsettings.json, GitProc__WatchBranch=... in the environment, --GitProc:Git:RemoteUrl=... on the command
        // line) sets everything else; the paths below are the application's and win over it.
        services.AddGitProcDaemon(configuration);
        services.Configure<GitProcOptions>(options =>
        {
            options.RepositoryPath = layout.UnitRepository;
            options.StatePath = layout.StatePath;
            options.LogDirectory = layout.LogDirectory;
            options.SocketPath = layout.SocketPath;

            // Cgroups live under /sys/fs/cgroup, outside the application's directory, and need root. Off here so the
            // sample touches nothing else; as root, turn them on with a cgroup root of the application's own (not
            // "gitproc", which a gitproc daemon on the same machine holds) to enforce MemoryMax=, CPUQuota= and TasksMax=.
            options.ResourceControl.Enabled = false;
        });

        services.AddTransient<UnitPreview>();
        services.AddSingleton<ServiceReport>();
        services.AddHostedService<ReadinessLog>();
        return services;
    }
}
