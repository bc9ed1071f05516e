using GitProc;
using GitProc.Health;
using GitProc.UnitFiles;
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
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GitProcOptions>, GitProcOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton<IUnitFileParser, UnitFileParser>();
        services.TryAddSingleton<IHealthMonitor, HealthMonitor>();
        return services;
    }
}
