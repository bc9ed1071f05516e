using System.Runtime.Versioning;
using GitProc;
using GitProc.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Runs GitProc inside a Generic Host.</summary>
public static class GitProcDaemonServiceCollectionExtensions
{
    /// <summary>How long the host waits for services to stop on shutdown: 90 seconds (the default 30 s is shorter than
    /// several services' <c>TimeoutStopSec</c>); configure <see cref="HostOptions"/> after this call to change it.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Registers GitProc (<see cref="GitProcServiceCollectionExtensions.AddGitProc"/>) and the daemon: a hosted service
    /// that locks its state and its cgroup root against a second daemon, checks that it can work (a units repository, or
    /// units applied by a previous run; writable state and log directories), raises its open-file soft limit, claims the IPC
    /// socket, recovers the previous run's state, applies the watched branch, serves clients (and, with
    /// <c>Metrics:Listen</c>, Prometheus; with <c>Web:Listen</c>, the status page), and on shutdown stops serving, then stops every service in reverse dependency
    /// order. Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">
    /// Configuration whose <c>GitProc</c> section (<see cref="GitProcOptions.SectionName"/>) is bound to
    /// <see cref="GitProcOptions"/>; <see langword="null"/> leaves options to code.
    /// </param>
    /// <returns>The same collection, for chaining.</returns>
    [SupportedOSPlatform("linux")]
    public static IServiceCollection AddGitProcDaemon(this IServiceCollection services, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddGitProc();
        if (configuration is not null)
        {
            services.AddOptions<GitProcOptions>().Bind(configuration.GetSection(GitProcOptions.SectionName));
        }

        if (!services.Any(d => d.ServiceType == typeof(GitProcDaemonService)))
        {
            services.Configure<HostOptions>(o => o.ShutdownTimeout = DefaultShutdownTimeout);
        }

        services.TryAddSingleton<GitProcDaemonService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, GitProcDaemonService>(sp => sp.GetRequiredService<GitProcDaemonService>()));

        // The Prometheus endpoint listens to the meter of the application's meter factory (Core does without one).
        services.AddMetrics();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HttpService>());

        // The reconciler's watch loop comes AFTER GitProcDaemonService: it starts after the initial sync and stops
        // before the services do.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ReconcilerWatchService>());
        return services;
    }
}
