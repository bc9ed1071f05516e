using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Hosting;
using GitProc.Logs;
using GitProc.Reconciliation;
using GitProc.ResourceControl;
using GitProc.Supervision;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Moq;

namespace GitProc.Core.Tests.Hosting;

[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public class GitProcDaemonServiceCollectionExtensionsTests
{
    [Test]
    public async Task Calling_it_twice_registers_one_daemon_and_binds_the_GitProc_section()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["GitProc:SocketPath"] = "/tmp/x/d.sock",
                ["GitProc:WatchBranch"] = "production",
                ["GitProc:Ipc:SocketMode"] = "0660",
                ["GitProc:Ipc:IdleTimeout"] = "00:10:00",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(Mock.Of<ISupervisor>());
        services.AddSingleton(Mock.Of<IReconciler>());
        services.AddSingleton(Mock.Of<IServiceLogs>());

        services.AddGitProcDaemon(configuration);
        services.AddGitProcDaemon(configuration);
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<GitProcOptions>>().Value;
        Assert.Multiple(() =>
        {
            Assert.That(provider.GetServices<IHostedService>().OfType<GitProcDaemonService>().Count(), Is.EqualTo(1));
            Assert.That(options.SocketPath, Is.EqualTo("/tmp/x/d.sock"));
            Assert.That(options.WatchBranch, Is.EqualTo("production"));
            Assert.That(options.Ipc.SocketMode, Is.EqualTo("0660"));
            Assert.That(options.Ipc.IdleTimeout, Is.EqualTo(TimeSpan.FromMinutes(10)));
            Assert.That(provider.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout,
                Is.EqualTo(GitProcDaemonServiceCollectionExtensions.DefaultShutdownTimeout));
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task A_failed_start_after_recovery_stops_the_services_it_started_and_frees_the_socket()
    {
        var directory = IpcTestServer.CreateTempDirectory();
        try
        {
            var socket = Path.Combine(directory, "d.sock");
            var supervisor = new Mock<ISupervisor>();
            supervisor.Setup(s => s.InitializeAsync(It.IsAny<CancellationToken>())).ReturnsAsync("abc");
            supervisor.Setup(s => s.StopAllAsync(It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
            var reconciler = new Mock<IReconciler>();
            reconciler.Setup(r => r.ResumeAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>())).ThrowsAsync(new InvalidOperationException("bug"));
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddSingleton(supervisor.Object);
            services.AddSingleton(reconciler.Object);
            services.AddSingleton(Mock.Of<IServiceLogs>());
            services.AddSingleton(Mock.Of<IResourceController>());
            services.AddGitProcDaemon();
            services.Configure<GitProcOptions>(o =>
            {
                o.SocketPath = socket;
                o.StatePath = Path.Combine(directory, "state.json");
            });
            await using var provider = services.BuildServiceProvider();
            var daemon = provider.GetRequiredService<GitProcDaemonService>();

            Assert.ThrowsAsync<InvalidOperationException>(() => daemon.StartAsync(CancellationToken.None));

            supervisor.Verify(s => s.StopAllAsync(It.IsAny<CancellationToken>()), Times.Once);
            Assert.That(File.Exists(socket), Is.False);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
