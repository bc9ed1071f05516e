using GitProc;
using GitProc.Daemon;
using GitProc.Delivery;
using GitProc.Dependencies;
using GitProc.Events;
using GitProc.Git;
using GitProc.Health;
using GitProc.Http;
using GitProc.Ipc;
using GitProc.Logs;
using GitProc.Metrics;
using GitProc.Processes;
using GitProc.Reconciliation;
using GitProc.ResourceControl;
using GitProc.State;
using GitProc.Supervision;
using GitProc.UnitFiles;
using GitProc.Validation;
using GitProc.Web;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers GitProc's components.</summary>
public static class GitProcServiceCollectionExtensions
{
    /// <summary>
    /// Registers every GitProc component with <c>TryAdd</c> (so any one can be replaced, for example by a mock,
    /// by registering it first) and binds <see cref="GitProcOptions"/>, validated when the host starts.
    /// Safe to call more than once; each call's <paramref name="configure"/> is applied in order.
    /// Logging is added if the application has not added it (it is idempotent), and so is the meter factory: GitProc's
    /// instruments are on its meter <c>GitProc</c>, for the application's own metrics pipeline to export.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options; <see langword="null"/> keeps the defaults.</param>
    /// <returns>The same collection, for chaining.</returns>
    public static IServiceCollection AddGitProc(this IServiceCollection services, Action<GitProcOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var options = services.AddOptions<GitProcOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddLogging();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GitProcOptions>, GitProcOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton<IEventStream, EventStream>();

        // The instruments come from the application's meter factory, so its OpenTelemetry pipeline sees them.
        services.AddMetrics();
        services.TryAddSingleton<GitProcMetrics>();

        services.TryAddSingleton<IUnitFileParser>(sp => new UnitFileParser(sp.GetRequiredService<IOptions<GitProcOptions>>().Value.UnitFiles));
        services.TryAddTransient<IDependencyResolver, DependencyResolver>();
        services.TryAddSingleton<IUnitCheck, UnitCheck>();
        services.TryAddSingleton<IStateManager, StateManager>();
        services.TryAddSingleton<IServiceLogs, ServiceLogs>();
        services.TryAddSingleton<IGitIntegration, GitIntegration>();
        services.TryAddSingleton<ICommitSignatureVerifier, CommitSignatureVerifier>();
        services.TryAddSingleton<IHealthMonitor, HealthMonitor>();
        services.TryAddSingleton<ISupervisor, Supervisor>();
        services.TryAddSingleton<IDeliveryHistory, DeliveryHistory>();
        services.TryAddSingleton<Reconciler>();
        services.TryAddSingleton<IReconciler>(sp => sp.GetRequiredService<Reconciler>());

        // Served only where an address is set (Metrics:Listen, Web:Listen); started by whoever hosts the loop.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpServer, MetricsServer>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpServer, WebServer>());

        // Processes and cgroups are Linux-only; elsewhere the library still parses units and resolves graphs.
        if (OperatingSystem.IsLinux())
        {
            services.TryAddSingleton<IProcessManager, ProcessManager>();
            services.TryAddSingleton<IResourceController, ResourceController>();

            // The daemon's control plane: its start-up guard, its socket and its in-place upgrade.
            services.TryAddSingleton<StartupChecks>();
            services.TryAddSingleton<IDaemonStartup, DaemonStartup>();
            services.TryAddSingleton<IIpcServer, IpcServer>();
            services.TryAddSingleton<IInPlaceUpgrade, InPlaceUpgrade>();
        }

        return services;
    }
}
