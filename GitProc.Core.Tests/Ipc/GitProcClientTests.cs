using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Ipc;
using GitProc.Supervision;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GitProc.Core.Tests.Ipc;

[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public class GitProcClientTests
{
    [Test]
    public async Task Typed_calls_return_the_daemon_data()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StartAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 42));
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 42));
        host.Supervisor.Setup(s => s.ListServices()).Returns([IpcServerTests.Running("web", 42), IpcServerTests.Failed("bad", 2)]);
        await using var client = new GitProcClient(host.SocketPath);

        var started = await client.StartAsync("web");
        var status = await client.GetStatusAsync("web");
        var list = await client.ListAsync();

        Assert.Multiple(() =>
        {
            Assert.That(started, Is.EqualTo(new IpcStartResult { Pid = 42, Service = "web" }));
            Assert.That(status.State, Is.EqualTo("running"));
            Assert.That(status.RestartCount, Is.EqualTo(2));
            Assert.That(status.StartTime, Is.EqualTo(IpcServerTests.Running("web").StartTime));
            Assert.That(list.Services.Select(s => (s.Name, s.Status, s.Pid, s.LastExitCode)),
                Is.EqualTo(new (string, string, int?, int?)[] { ("web", "running", 42, 0), ("bad", "failed", null, 2) }));
        });
    }

    [Test]
    public async Task An_error_response_throws_GitProcClientException_with_the_daemon_message()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StopAsync("web", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ServiceOperationException("web", "Service not running: web"));
        await using var client = new GitProcClient(host.SocketPath);

        var error = Assert.ThrowsAsync<GitProcClientException>(() => client.StopAsync("web"));

        Assert.That(error!.Message, Is.EqualTo("Service not running: web"));
    }

    [Test]
    public async Task A_missing_socket_throws_DaemonUnreachableException_naming_it()
    {
        var directory = IpcTestServer.CreateTempDirectory();
        try
        {
            var path = Path.Combine(directory, "none.sock");
            await using var client = new GitProcClient(path);

            var error = Assert.ThrowsAsync<DaemonUnreachableException>(() => client.GetStatusAsync("web"));

            Assert.That(error!.Message, Does.StartWith($"Cannot connect to the gitproc daemon at {path}: "));
            Assert.That(error.SocketPath, Is.EqualTo(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public async Task A_daemon_that_went_away_is_unreachable_and_a_new_one_is_reconnected_to()
    {
        var directory = IpcTestServer.CreateTempDirectory();
        var first = await IpcTestServer.StartAsync(directory: directory);
        first.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web"));
        await using var client = new GitProcClient(first.SocketPath);
        await client.GetStatusAsync("web");

        await first.Server.StopAsync();
        Assert.ThrowsAsync<DaemonUnreachableException>(() => client.GetStatusAsync("web"));
        await using var second = await IpcTestServer.StartAsync(directory: directory);
        second.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 7));
        var status = await client.GetStatusAsync("web");

        Assert.That(status.Pid, Is.EqualTo(7));
        await first.Server.DisposeAsync();
    }

    [Test]
    public async Task A_connection_the_daemon_closed_as_idle_is_replaced_by_a_new_one_on_the_next_call()
    {
        var time = new FakeTimeProvider();
        await using var host = await IpcTestServer.StartAsync(timeProvider: time);
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 7));
        await using var client = new GitProcClient(host.SocketPath);
        await client.GetStatusAsync("web");

        await IpcTestServer.AdvanceUntilAsync(
            time, TimeSpan.FromMinutes(1), () => host.Server.ConnectionCount == 0, 20, "the daemon closes the idle connection");

        // The client looks for a close only after a pause (so back-to-back calls cost no extra system call).
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var status = await client.GetStatusAsync("web");

        Assert.That(status.Pid, Is.EqualTo(7), "answered on a new connection, not with the old one's parting error line");
    }
    [Test]
    public async Task A_status_the_daemon_reset_unread_while_handing_over_is_asked_again_of_the_new_one()
    {
        var directory = IpcTestServer.CreateTempDirectory();
        var path = Path.Combine(directory, "gitproc.sock");

        // The old daemon: accepts, never reads the request, and goes away (closing with unread data resets).
        var old = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        old.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        old.Listen();
        await using var client = new GitProcClient(path);
        var asked = client.GetStatusAsync("web");
        using var accepted = await old.AcceptAsync();
        while (accepted.Available == 0)
        {
            await Task.Delay(10);
        }

        // The new daemon is listening before the old one lets go of its connection.
        old.Dispose();
        File.Delete(path);
        await using var next = await IpcTestServer.StartAsync(directory: directory, start: false);
        next.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 7));
        await next.Server.StartAsync(CancellationToken.None);
        accepted.Close();

        var status = await asked;
        Assert.That(status.Pid, Is.EqualTo(7), "answered by the new daemon instead of failing with the reset");
    }
}
