using System.Runtime.Versioning;
using GitProc.Ipc;
using GitProc.Logs;
using GitProc.Reconciliation;
using GitProc.Supervision;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>A real <see cref="IpcServer"/> on a socket in a fresh temporary directory, over mocked components.</summary>
[SupportedOSPlatform("linux")]
internal sealed class IpcTestServer : IAsyncDisposable
{
    private IpcTestServer(string directory, string socketPath, GitProcOptions options, IpcServer server)
    {
        Directory = directory;
        SocketPath = socketPath;
        Options = options;
        Server = server;
    }

    public string Directory { get; }

    public string SocketPath { get; }

    public GitProcOptions Options { get; }

    public IpcServer Server { get; }

    public Mock<ISupervisor> Supervisor { get; private init; } = null!;

    public Mock<IReconciler> Reconciler { get; private init; } = null!;

    public Mock<IServiceLogs> Logs { get; private init; } = null!;

    /// <summary>Short paths: a Unix socket path must fit in 108 bytes.</summary>
    public static string CreateTempDirectory() =>
        System.IO.Directory.CreateTempSubdirectory("gp-").FullName;

    public static async Task<IpcTestServer> StartAsync(
        Action<GitProcOptions>? configure = null,
        ISupervisor? supervisor = null,
        bool start = true,
        string? directory = null,
        TimeProvider? timeProvider = null,
        GitProc.Events.IEventStream? events = null)
    {
        directory ??= CreateTempDirectory();
        var options = new GitProcOptions { SocketPath = Path.Combine(directory, "gitproc.sock") };
        configure?.Invoke(options);
        var supervisorMock = new Mock<ISupervisor>(MockBehavior.Strict);
        var reconciler = new Mock<IReconciler>(MockBehavior.Strict);
        reconciler.Setup(r => r.Status).Returns(new ReconcilerStatus("main", null, null));
        var logs = new Mock<IServiceLogs>(MockBehavior.Strict);
        var server = new IpcServer(
            supervisor ?? supervisorMock.Object,
            reconciler.Object,
            logs.Object,
            new Mock<GitProc.Delivery.IDeliveryHistory>().Object,
            Microsoft.Extensions.Options.Options.Create(options.ToPaths()),
            Microsoft.Extensions.Options.Options.Create(options.Ipc),
            timeProvider ?? TimeProvider.System,
            events);
        var host = new IpcTestServer(directory, options.SocketPath, options, server)
        {
            Supervisor = supervisorMock,
            Reconciler = reconciler,
            Logs = logs,
        };
        if (start)
        {
            await server.StartAsync();
        }

        return host;
    }

    public Task<RawIpcClient> ConnectAsync() => RawIpcClient.ConnectAsync(SocketPath);

    /// <summary>
    /// Advances <paramref name="time"/> a step at a time, giving the server a moment of real time after each, until
    /// <paramref name="done"/> holds; returns how far the clock moved, or fails after <paramref name="maxSteps"/>.
    /// Steps, because the server stamps its idle times on its own threads: one that lands after a jump just starts later.
    /// </summary>
    public static async Task<TimeSpan> AdvanceUntilAsync(FakeTimeProvider time, TimeSpan step, Func<bool> done, int maxSteps, string what)
    {
        for (var i = 1; i <= maxSteps; i++)
        {
            time.Advance(step);
            for (var wait = 0; wait < 20 && !done(); wait++)
            {
                await Task.Delay(5);
            }

            if (done())
            {
                return step * i;
            }
        }

        throw new AssertionException($"Not after advancing the clock {maxSteps} x {step}: {what}");
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
