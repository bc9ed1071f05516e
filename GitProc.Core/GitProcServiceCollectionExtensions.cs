using System.Diagnostics.CodeAnalysis;
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
using GitProc.Targeting;
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
    /// by registering it first) and binds <see cref="GitProcOptions"/>, validated when the host starts with every
    /// invalid setting listed in one error. Each component takes its own part of those options
    /// (<c>IOptions&lt;GitOptions&gt;</c>, <c>IOptions&lt;LogOptions&gt;</c>, <c>IOptions&lt;PathOptions&gt;</c>, …),
    /// derived from them. Safe to call more than once: the components are registered once, and each call's
    /// <paramref name="configure"/> is applied in order.
    /// </summary>
    /// <remarks>
    /// Logging and metrics are the application's: the components log through its <c>ILogger&lt;T&gt;</c> when it
    /// registered logging (the Generic Host does) and log nothing otherwise; their instruments are on the meter
    /// <c>GitProc</c>, made by the application's <c>IMeterFactory</c> when it has one (the Generic Host does), for its
    /// own metrics pipeline to export.
    /// </remarks>
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

        if (services.Any(d => d.ServiceType == typeof(IValidateOptions<GitProcOptions>) && d.ImplementationType == typeof(GitProcOptionsValidator)))
        {
            // Registered by an earlier call: only its configure action was new.
            return services;
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GitProcOptions>, GitProcOptionsValidator>());
        AddPart<PathOptions>(services);
        AddPart<TargetingOptions>(services);
        AddPart<GitOptions>(services);
        AddPart<LogOptions>(services);
        AddPart<IpcOptions>(services);
        AddPart<ResourceControlOptions>(services);
        AddPart<HealthOptions>(services);
        AddPart<UnitFileOptions>(services);
        AddPart<DeliveryOptions>(services);
        AddPart<EventOptions>(services);
        AddPart<MetricsOptions>(services);
        AddPart<WebOptions>(services);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IEventStream, EventStream>();
        services.TryAddSingleton<GitProcMetrics>();
        services.TryAddSingleton<IUnitFileParser, UnitFileParser>();
        services.TryAddSingleton<IDependencyResolver, DependencyResolver>();
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

    /// <summary>
    /// Makes <c>IOptions&lt;TOptions&gt;</c> the part of <see cref="GitProcOptions"/> it stands for, checked by the same
    /// rules as the whole.
    /// </summary>
    private static void AddPart<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(IServiceCollection services)
        where TOptions : class
    {
        services.TryAddTransient<IOptionsFactory<TOptions>, GitProcOptionsFactory<TOptions>>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IValidateOptions<TOptions>), typeof(GitProcOptionsValidator)));
    }
}
