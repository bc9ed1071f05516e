using System.Diagnostics.CodeAnalysis;
using GitProc.Delivery;
using GitProc.Events;
using GitProc.Git;
using GitProc.Health;
using GitProc.Ipc;
using GitProc.Logs;
using GitProc.Metrics;
using GitProc.ResourceControl;
using GitProc.Targeting;
using GitProc.UnitFiles;
using GitProc.Web;
using Microsoft.Extensions.Options;

namespace GitProc;

/// <summary>
/// Makes a component's options from <see cref="GitProcOptions"/>, the one shape configuration and
/// <c>AddGitProc(configure)</c> set: a section is the root's own instance (so <c>GitProc:Git:RemoteUrl</c> reaches
/// <c>IOptions&lt;GitOptions&gt;</c> unchanged), the top-level values a new <see cref="PathOptions"/> or
/// <see cref="TargetingOptions"/>. Anything configured for the component's type itself (<c>services.Configure&lt;GitOptions&gt;</c>)
/// and its validators then apply as for any options.
/// </summary>
/// <remarks>
/// Reading the root validates it first, so an invalid setting surfaces with every failure at once, whichever component
/// asks first.
/// </remarks>
internal sealed class GitProcOptionsFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
    IOptions<GitProcOptions> root,
    IEnumerable<IConfigureOptions<TOptions>> setups,
    IEnumerable<IPostConfigureOptions<TOptions>> postConfigures,
    IEnumerable<IValidateOptions<TOptions>> validations)
    : OptionsFactory<TOptions>(setups, postConfigures, validations)
    where TOptions : class
{
    protected override TOptions CreateInstance(string name) => (TOptions)Part(root.Value, typeof(TOptions));

    private static object Part(GitProcOptions options, Type type) =>
        type == typeof(PathOptions) ? options.ToPaths()
        : type == typeof(TargetingOptions) ? options.ToTargeting()
        : type == typeof(GitOptions) ? options.Git
        : type == typeof(LogOptions) ? options.Logs
        : type == typeof(IpcOptions) ? options.Ipc
        : type == typeof(ResourceControlOptions) ? options.ResourceControl
        : type == typeof(HealthOptions) ? options.Health
        : type == typeof(UnitFileOptions) ? options.UnitFiles
        : type == typeof(DeliveryOptions) ? options.Delivery
        : type == typeof(EventOptions) ? options.Events
        : type == typeof(MetricsOptions) ? options.Metrics
        : type == typeof(WebOptions) ? options.Web
        : throw new NotSupportedException($"{type.Name} is not a part of {nameof(GitProcOptions)}.");
}
