using System.Runtime.Versioning;
using GitProc.Dependencies;
using GitProc.Git;
using GitProc.Health;
using GitProc.Logs;
using GitProc.Metrics;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.State;
using GitProc.Targeting;
using GitProc.UnitFiles;
using GitProc.Validation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Moq;

namespace GitProc.Core.Tests;

/// <summary><c>AddGitProc</c> itself: what an embedder relies on when it registers, replaces and configures GitProc.</summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class GitProcServiceCollectionExtensionsTests
{
    /// <summary>The seed's seven components (CONTRACT §8), each an interface an embedder may replace.</summary>
    private static readonly Type[] SeedInterfaces =
    [
        typeof(IUnitFileParser), typeof(IProcessManager), typeof(IGitIntegration), typeof(IStateManager),
        typeof(IResourceController), typeof(IDependencyResolver), typeof(IHealthMonitor),
    ];

    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = Directory.CreateTempSubdirectory("gitproc-di-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void Calling_it_twice_registers_each_component_once_and_applies_both_configure_actions_in_order()
    {
        var services = new ServiceCollection();
        services.AddGitProc(o =>
        {
            o.WatchBranch = "release";
            o.Logs.MaxFiles = 2;
        });
        services.AddGitProc(o => o.WatchBranch += "-2");
        using var provider = services.BuildServiceProvider();

        // Each call's configure action is the one registration meant to repeat.
        var duplicated = services
            .Where(d => d.ServiceType != typeof(IConfigureOptions<GitProcOptions>))
            .Where(d => d.ServiceType.Namespace?.StartsWith("GitProc", StringComparison.Ordinal) == true
                || d.ServiceType.GenericTypeArguments.Any(a => a.Namespace?.StartsWith("GitProc", StringComparison.Ordinal) == true))
            .GroupBy(d => (d.ServiceType, d.ImplementationType))
            .Where(g => g.Count() > 1)
            .Select(g => g.Key.ServiceType.ToString())
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(duplicated, Is.Empty);
            Assert.That(services.Count(d => d.ServiceType == typeof(IConfigureOptions<GitProcOptions>)), Is.EqualTo(2));
            Assert.That(provider.GetRequiredService<IOptions<TargetingOptions>>().Value.WatchBranch, Is.EqualTo("release-2"));
            Assert.That(provider.GetRequiredService<IOptions<LogOptions>>().Value.MaxFiles, Is.EqualTo(2));
        });
    }

    [TestCaseSource(nameof(SeedInterfaces))]
    public void A_component_registered_first_replaces_GitProcs_own(Type seed)
    {
        var replacement = ((Mock)Activator.CreateInstance(typeof(Mock<>).MakeGenericType(seed))!).Object;
        var services = new ServiceCollection();
        services.AddSingleton(seed, replacement);
        services.AddGitProc(Paths);
        using var provider = services.BuildServiceProvider();

        Assert.That(provider.GetRequiredService(seed), Is.SameAs(replacement));
        Assert.That(services.Count(d => d.ServiceType == seed), Is.EqualTo(1));
    }

    [Test]
    public void A_mocked_resolver_answers_the_unit_check_with_one_setup_and_no_call_sequence()
    {
        var cycle = new DependencyDiagnostic(DependencyDiagnosticKind.Cycle, "web", null, ["web"], "Dependency cycle: web -> web.");
        var graph = new Mock<IDependencyGraph>();
        graph.Setup(g => g.Validation).Returns(new DependencyValidation([cycle], []));
        var resolver = new Mock<IDependencyResolver>();
        resolver.Setup(r => r.Build(It.IsAny<IEnumerable<ServiceDependencies>>())).Returns(graph.Object);
        var services = new ServiceCollection();
        services.AddSingleton(resolver.Object);
        services.AddGitProc(Paths);
        using var provider = services.BuildServiceProvider();

        var result = provider.GetRequiredService<IUnitCheck>().Check([new UnitSource("web.service", "[Service]\nExecStart=/bin/true\n"u8.ToArray())]);

        Assert.That(result.Errors.Select(e => e.Message), Has.Some.Contains("Dependency cycle: web -> web"));
    }

    [Test]
    [CancelAfter(30_000)]
    public void Starting_a_host_with_invalid_options_fails_once_listing_every_invalid_setting(CancellationToken token)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddGitProc(o =>
        {
            Paths(o);
            o.StatePath = "relative/state.json";
            o.Git.FetchTimeout = TimeSpan.Zero;
            o.Logs.MaxFiles = -1;
            o.Web.LogLines = 0;
        });
        using var host = builder.Build();

        var ex = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(token));

        Assert.That(ex.Failures, Is.EqualTo(new[]
        {
            "StatePath must be an absolute path (was 'relative/state.json').",
            "Git.FetchTimeout must be positive (was 00:00:00).",
            "Logs.MaxFiles must not be negative (was -1).",
            "Web.LogLines must be from 1 to 10000 (was 0).",
        }));
    }

    [Test]
    public void Options_configured_for_one_component_alone_are_held_to_the_same_rules()
    {
        var services = new ServiceCollection();
        services.AddGitProc(Paths);
        services.Configure<LogOptions>(o => o.MaxFileBytes = 10);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IServiceLogs>());

        Assert.That(ex.Failures, Is.EqualTo(new[] { "Logs.MaxFileBytes must be at least 1024 bytes (was 10)." }));
    }

    [Test]
    public void Each_components_options_come_from_the_GitProc_section_keys_as_before()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["GitProc:StatePath"] = Path.Combine(_directory, "s.json"),
                ["GitProc:WatchBranch"] = "production",
                ["GitProc:HostName"] = "web-7",
                ["GitProc:Git:RemoteUrl"] = "https://git.example.com/units.git",
                ["GitProc:Delivery:HistoryLimit"] = "7",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddGitProc();
        services.AddOptions<GitProcOptions>().Bind(configuration.GetSection(GitProcOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        Assert.Multiple(() =>
        {
            Assert.That(provider.GetRequiredService<IOptions<PathOptions>>().Value.StatePath, Is.EqualTo(Path.Combine(_directory, "s.json")));
            Assert.That(provider.GetRequiredService<IOptions<TargetingOptions>>().Value.WatchBranch, Is.EqualTo("production"));
            Assert.That(provider.GetRequiredService<IOptions<TargetingOptions>>().Value.HostName, Is.EqualTo("web-7"));
            Assert.That(provider.GetRequiredService<IOptions<GitOptions>>().Value.RemoteUrl, Is.EqualTo("https://git.example.com/units.git"));
            Assert.That(provider.GetRequiredService<IOptions<GitProc.Delivery.DeliveryOptions>>().Value.HistoryLimit, Is.EqualTo(7));
            Assert.That(provider.GetRequiredService<IGitIntegration>().RepositoryPath, Is.EqualTo(new PathOptions().RepositoryPath));
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Every_component_works_without_logging_or_a_meter_factory_registered(CancellationToken token)
    {
        var services = new ServiceCollection();
        services.AddGitProc(Paths);
        await using var provider = services.BuildServiceProvider();

        // Everything AddGitProc registered resolves, though nothing can make an ILogger<T> or an IMeterFactory.
        var registered = services.Where(d => !d.ServiceType.IsGenericTypeDefinition && d.ServiceType.Namespace?.StartsWith("GitProc", StringComparison.Ordinal) == true).ToList();
        Assert.That(services.Any(d => d.ServiceType == typeof(ILoggerFactory) || d.ServiceType == typeof(System.Diagnostics.Metrics.IMeterFactory)), Is.False);
        Assert.That(registered, Has.Count.GreaterThan(10));
        foreach (var descriptor in registered)
        {
            Assert.That(provider.GetServices(descriptor.ServiceType), Is.Not.Empty.And.All.Not.Null, descriptor.ServiceType.Name);
        }

        Assert.That(provider.GetServices<GitProc.Http.IHttpServer>().Count(), Is.EqualTo(2), "the metrics endpoint and the status page");

        // And does its work, logging included (a corrupt state file is logged as it is moved aside).
        await File.WriteAllTextAsync(Path.Combine(_directory, "state.json"), "{ not json", token);
        var state = provider.GetRequiredService<IStateManager>();
        var loaded = await state.LoadAsync(token);
        await state.SaveAsync(loaded, token);
        Assert.That(Directory.GetFiles(_directory, "state.json.corrupt-*"), Has.Length.EqualTo(1));
        Assert.That(provider.GetRequiredService<GitProcMetrics>(), Is.Not.Null);
    }

    private void Paths(GitProcOptions options)
    {
        options.RepositoryPath = Path.Combine(_directory, "repo");
        options.StatePath = Path.Combine(_directory, "state.json");
        options.SocketPath = Path.Combine(_directory, "gitproc.sock");
        options.LogDirectory = Path.Combine(_directory, "logs");
        options.ResourceControl.Enabled = false;
    }
}
