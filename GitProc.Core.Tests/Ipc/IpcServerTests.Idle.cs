using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using GitProc.Core.Tests.TestSupport;
using GitProc.Ipc;
using GitProc.Supervision;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GitProc.Core.Tests.Ipc;

/// <summary>Idle clients cannot lock others out: the idle timeout and the connection limit (CONTRACT §9).</summary>
public partial class IpcServerTests
{
    private const string StatusRequest = """{"command":"status","service":"web"}""";

    private static readonly TimeSpan IdleTimeout = new IpcOptions().IdleTimeout;

    [Test]
    public void The_idle_timeout_defaults_to_5_minutes() =>
        Assert.That(IdleTimeout, Is.EqualTo(TimeSpan.FromMinutes(5)));

    [Test]
    public async Task An_idle_connection_gets_one_error_line_after_IdleTimeout_and_is_closed()
    {
        var time = new FakeTimeProvider();
        await using var host = await IpcTestServer.StartAsync(timeProvider: time);
        await FirstSweepAsync(host.Server);

        // Connected 2 s after the sweeper set its timer, so its next sweep comes 2 s before this connection's timeout.
        time.Advance(TimeSpan.FromSeconds(2));
        await using var client = await host.ConnectAsync();
        Assert.That(await ProcScan.WaitUntilAsync(() => host.Server.ConnectionCount == 1, TimeSpan.FromSeconds(10)), Is.True);

        var goodbye = client.ReadLineAsync();
        Assert.That(await SweepAfterAsync(host, time, IdleTimeout - TimeSpan.FromSeconds(2)), Is.Zero, "still open 2 s before the timeout");
        Assert.That(goodbye.IsCompleted, Is.False, "still open 2 s before the timeout");

        await IpcTestServer.AdvanceUntilAsync(time, TimeSpan.FromSeconds(1), () => goodbye.IsCompleted, 5, "the idle connection is closed");

        using var parsed = JsonDocument.Parse((await goodbye)!);
        var afterGoodbye = await client.ReadLineAsync();
        Assert.Multiple(() =>
        {
            Assert.That(parsed.RootElement.GetProperty("status").GetString(), Is.EqualTo("error"));
            Assert.That(
                parsed.RootElement.GetProperty("error").GetString(),
                Is.EqualTo("idle timeout: no request for 300s (Ipc:IdleTimeout), so the daemon closed this connection; reconnect to send more requests"));
            Assert.That(afterGoodbye, Is.Null, "closed after the line");
        });
        Assert.That(await ProcScan.WaitUntilAsync(() => host.Server.ConnectionCount == 0, TimeSpan.FromSeconds(10)), Is.True);
    }

    [Test]
    public async Task A_following_connection_and_one_running_a_long_command_are_never_idle()
    {
        var time = new FakeTimeProvider();
        await using var host = await IpcTestServer.StartAsync(timeProvider: time);
        await FirstSweepAsync(host.Server);
        host.Supervisor.Setup(s => s.GetStatus("web")).Returns(Running("web"));
        host.Logs.Setup(l => l.ReadLastLinesAsync("web", 1, It.IsAny<CancellationToken>())).ReturnsAsync(["old"]);
        var feed = Channel.CreateUnbounded<string>();
        var followEnded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Logs.Setup(l => l.FollowAsync("web", It.IsAny<CancellationToken>()))
            .Returns((string _, CancellationToken token) => Follow(feed.Reader, followEnded, token));
        var startCalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource<ServiceSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Supervisor.Setup(s => s.StartAsync("slow", It.IsAny<CancellationToken>()))
            .Returns(() =>
            {
                startCalled.TrySetResult();
                return started.Task;
            });

        await using var follower = await host.ConnectAsync();
        await using var busy = await host.ConnectAsync();
        await using var idle = await host.ConnectAsync();
        await follower.SendLineAsync("""{"command":"logs","service":"web","args":{"lines":1,"follow":true}}""");
        Assert.That(await follower.ReadLineAsync(), Does.Contain("old"));
        await busy.SendLineAsync("""{"command":"start","service":"slow"}""");
        await startCalled.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The plain idle connection goes at the timeout's sweep (all three connected before the clock moved); then
        // hours pass, a sweep each, and none closes another connection.
        var idleGoodbye = idle.ReadLineAsync();
        Assert.That(await SweepAfterAsync(host, time, IdleTimeout), Is.EqualTo(1), "the idle connection is closed");
        Assert.That(await idleGoodbye, Does.Contain("idle timeout"));
        Assert.That(await ProcScan.WaitUntilAsync(() => host.Server.ConnectionCount == 2, TimeSpan.FromSeconds(10)), Is.True);
        var busyReply = busy.ReadLineAsync();
        var followed = follower.ReadLineAsync();
        for (var hour = 0; hour < 3; hour++)
        {
            Assert.That(await SweepAfterAsync(host, time, TimeSpan.FromHours(1)), Is.Zero, $"hour {hour + 1}: nothing closed");
        }

        Assert.Multiple(() =>
        {
            Assert.That(busyReply.IsCompleted, Is.False, "a running command is not idle");
            Assert.That(followed.IsCompleted, Is.False, "a follower is not idle");
            Assert.That(host.Server.ConnectionCount, Is.EqualTo(2));
        });

        await feed.Writer.WriteAsync("new");
        started.SetResult(Running("slow", 77));
        Assert.That(await followed, Is.EqualTo("""{"status":"success","data":{"logs":"new\n"}}"""));
        Assert.That(await busyReply, Is.EqualTo("""{"status":"success","data":{"pid":77,"service":"slow"}}"""));

        // Once its command is answered, the busy connection is idle like any other; the follower still is not.
        var busyGoodbye = busy.ReadLineAsync();
        await IpcTestServer.AdvanceUntilAsync(time, TimeSpan.FromMinutes(1), () => busyGoodbye.IsCompleted, 10, "the formerly busy connection is closed");
        Assert.That(await busyGoodbye, Does.Contain("idle timeout"));
        await feed.Writer.WriteAsync("newer");
        Assert.That(await follower.ReadLineAsync(), Does.Contain("newer"));
    }

    [Test]
    public async Task A_client_that_leaves_its_replies_unread_is_cut_off_after_IdleTimeout()
    {
        var time = new FakeTimeProvider();
        await using var host = await IpcTestServer.StartAsync(timeProvider: time, supervisor: new FixedStatusSupervisor(Running("web")));
        await using var hog = await host.ConnectAsync();
        Assert.That(await ProcScan.WaitUntilAsync(() => host.Server.ConnectionCount == 1, TimeSpan.FromSeconds(10)), Is.True);

        // Requests without ever reading: the replies fill the socket buffers and the server's flush waits.
        var requests = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(StatusRequest + "\n", 1_000)));
        var sending = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 100; i++)
                {
                    await hog.Stream.WriteAsync(requests);
                }
            }
            catch (IOException)
            {
                // Cut off: expected.
            }
        });

        var advanced = await IpcTestServer.AdvanceUntilAsync(
            time, TimeSpan.FromSeconds(30), () => host.Server.ConnectionCount == 0, 40, "the connection that does not read is closed");
        await sending.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(advanced, Is.GreaterThanOrEqualTo(IdleTimeout), "not before the timeout");
        await using var other = await host.ConnectAsync();
        using var served = await other.RequestAsync(StatusRequest);
        Assert.That(served.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
    }

    [Test]
    public async Task At_the_limit_a_newcomer_takes_the_place_of_the_longest_idle_connection_not_the_oldest()
    {
        var time = new FakeTimeProvider();
        await using var host = await IpcTestServer.StartAsync(o => o.Ipc.MaxConnections = 2, timeProvider: time);
        host.Supervisor.Setup(s => s.GetStatusAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string name, CancellationToken _) => Running(name));
        await using var older = await host.ConnectAsync();
        Assert.That(await ProcScan.WaitUntilAsync(() => host.Server.ConnectionCount == 1, TimeSpan.FromSeconds(10)), Is.True);
        time.Advance(TimeSpan.FromSeconds(10));
        await using var younger = await host.ConnectAsync();
        Assert.That(await ProcScan.WaitUntilAsync(() => host.Server.ConnectionCount == 2, TimeSpan.FromSeconds(10)), Is.True);
        time.Advance(TimeSpan.FromSeconds(5));
        using (await older.RequestAsync(StatusRequest))
        {
        }

        time.Advance(TimeSpan.FromSeconds(5));
        await using var newcomer = await host.ConnectAsync();
        using var answer = await newcomer.RequestAsync(StatusRequest);
        var evicted = await younger.ReadLineAsync();
        var afterEviction = await younger.ReadLineAsync();
        using var stillServed = await older.RequestAsync(StatusRequest);

        Assert.Multiple(() =>
        {
            Assert.That(answer.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"), "the newcomer is served");
            Assert.That(evicted, Is.EqualTo(
                """{"status":"error","error":"closed: the daemon is at its connection limit (2) and this connection was the longest idle; reconnect to send more requests","code":"connection_closed"}"""));
            Assert.That(afterEviction, Is.Null, "the longest idle is closed after its line");
            Assert.That(stillServed.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"), "the recently active one stays");
        });

        // Both open connections were active just now (the clock has not moved): a further newcomer is refused.
        await using var refused = await host.ConnectAsync();
        Assert.That(await refused.ReadLineAsync(), Does.Contain("Too many connections"));
        using var afterRefusal = await newcomer.RequestAsync(StatusRequest);
        Assert.That(afterRefusal.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
    }

    [Test]
    [CancelAfter(180_000)]
    public async Task With_1100_idle_connections_at_the_real_limit_new_clients_are_still_served()
    {
        var time = new FakeTimeProvider();
        await using var host = await IpcTestServer.StartAsync(timeProvider: time);
        Assert.That(host.Options.Ipc.MaxConnections, Is.EqualTo(1024));
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web"));
        host.Supervisor.Setup(s => s.ListServices()).Returns([Running("web")]);
        var idle = new List<RawIpcClient>();
        var newcomers = new List<RawIpcClient>();
        try
        {
            for (var i = 0; i < 1100; i++)
            {
                idle.Add(await ConnectWhenTheBacklogHasRoomAsync(host));
            }

            // All arrived at once (the clock stands still), so none was idle long enough to make room: 76 refused.
            Assert.That(await ProcScan.WaitUntilAsync(() => idle.Count(HasSomethingToRead) == 76, TimeSpan.FromSeconds(60)), Is.True);
            var refused = idle.Where(HasSomethingToRead).ToList();
            foreach (var client in refused)
            {
                Assert.That(await client.ReadLineAsync(), Does.Contain("Too many connections: the daemon serves at most 1024 clients"));
                Assert.That(await client.ReadLineAsync(), Is.Null);
            }

            idle.RemoveAll(refused.Contains);
            Assert.That(host.Server.ConnectionCount, Is.EqualTo(1024));

            // Newcomers stay connected, so each one arrives at the limit.
            time.Advance(TimeSpan.FromSeconds(2));
            for (var i = 0; i < 10; i++)
            {
                var watch = Stopwatch.StartNew();
                var newcomer = await host.ConnectAsync();
                newcomers.Add(newcomer);
                using var status = await newcomer.RequestAsync(StatusRequest);
                using var list = await newcomer.RequestAsync("""{"command":"list"}""");
                watch.Stop();
                Assert.Multiple(() =>
                {
                    Assert.That(status.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
                    Assert.That(list.RootElement.GetProperty("data").GetProperty("services").GetArrayLength(), Is.EqualTo(1));
                    Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "a generous sanity bound");
                });
            }

            // Each newcomer took one idle connection's place; that one got the line and was closed.
            Assert.That(await ProcScan.WaitUntilAsync(() => idle.Count(HasSomethingToRead) == 10, TimeSpan.FromSeconds(30)), Is.True);
            foreach (var evicted in idle.Where(HasSomethingToRead).ToList())
            {
                Assert.That(await evicted.ReadLineAsync(), Does.Contain("closed: the daemon is at its connection limit (1024) and this connection was the longest idle"));
                Assert.That(await evicted.ReadLineAsync(), Is.Null);
            }

            Assert.That(await ProcScan.WaitUntilAsync(() => host.Server.ConnectionCount == 1024, TimeSpan.FromSeconds(30)), Is.True,
                "the ten evicted are gone; the newcomers and the other idle ones stay");
        }
        finally
        {
            foreach (var client in idle.Concat(newcomers))
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Waits for the idle sweeper's first sweep, run when accepting starts: from then on its timer is set.</summary>
    private static async Task FirstSweepAsync(IpcServer server)
    {
        while (true)
        {
            // Taken before the count is read: if the first sweep ends in between, this task is the one it completes.
            var next = server.NextSweep;
            if (server.Sweeps > 0)
            {
                return;
            }

            await next.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>
    /// Moves the clock by <paramref name="step"/> (which must reach the sweeper's timer) and returns how many connections
    /// the sweep it wakes closed.
    /// </summary>
    private static async Task<int> SweepAfterAsync(IpcTestServer host, FakeTimeProvider time, TimeSpan step)
    {
        var sweep = host.Server.NextSweep;
        time.Advance(step);
        return await sweep.WaitAsync(TimeSpan.FromSeconds(30));
    }

        /// <summary>Connects, waiting while the listen backlog is full (a burst faster than the server accepts).</summary>
    private static async Task<RawIpcClient> ConnectWhenTheBacklogHasRoomAsync(IpcTestServer host)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await host.ConnectAsync();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock && attempt < 1_000)
            {
                await Task.Delay(10);
            }
        }
    }

    /// <summary>Whether a line (or the end of the stream) is waiting, without consuming it.</summary>
    private static bool HasSomethingToRead(RawIpcClient client) => client.Stream.Socket.Poll(0, SelectMode.SelectRead);
}
