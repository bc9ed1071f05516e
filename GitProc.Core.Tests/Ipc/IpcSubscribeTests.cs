using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.Json;
using GitProc.Core.Tests.TestSupport;
using GitProc.Events;
using GitProc.Ipc;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.Ipc;

/// <summary>
/// IPC <c>subscribe</c> on a real socket with the real event stream: a subscriber that stops reading is dropped with a
/// line saying why, while <c>status</c> stays quick and the other subscriber misses nothing.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class IpcSubscribeTests
{
    private static readonly ServiceSnapshot Web = new() { Name = "web", Status = ServiceStatus.Running, SubState = "running", Pid = 42 };

    [Test]
    [CancelAfter(120_000)]
    public async Task A_stalled_subscriber_is_dropped_with_a_message_while_status_stays_quick_and_others_receive_everything(CancellationToken token)
    {
        var events = new EventStream(Options.Create(new EventOptions { SubscriberBuffer = 100 }), TimeProvider.System);
        await using var host = await IpcTestServer.StartAsync(supervisor: new FixedStatusSupervisor(Web), events: events);

        await using var stalled = await host.ConnectAsync();
        using (var reply = await stalled.RequestAsync("""{"command":"subscribe"}"""))
        {
            Assert.That(reply.RootElement.GetProperty("data").GetProperty("buffer").GetInt32(), Is.EqualTo(100));
        }

        await using var active = new GitProcClient(host.SocketPath);
        long lastSeen = 0;
        var gaps = 0;
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(token);
        var reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in active.SubscribeAsync(cancellationToken: stopReading.Token))
                {
                    if (e.Seq != Volatile.Read(ref lastSeen) + 1)
                    {
                        gaps++;
                    }

                    Volatile.Write(ref lastSeen, e.Seq);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, token);
        Assert.That(await ProcScan.WaitUntilAsync(() => events.SubscriberCount == 2, TimeSpan.FromSeconds(10)), Is.True);

        await using var status = new GitProcClient(host.SocketPath);
        var slowestStatus = TimeSpan.Zero;
        long published = 0;
        while (events.SubscriberCount == 2 && published < 200_000)
        {
            for (var i = 0; i < 50; i++)
            {
                events.Publish(new GitProcEvent { Type = EventTypes.ServiceRecord, Service = "web", From = "running", To = "failed", Reason = "exited with code 3" });
            }

            published += 50;
            Assert.That(await ProcScan.WaitUntilAsync(() => Volatile.Read(ref lastSeen) == published, TimeSpan.FromSeconds(10)), Is.True, "the reading subscriber keeps up");
            if (published % 100 == 0)
            {
                var clock = Stopwatch.StartNew();
                await status.GetStatusAsync("web", token);
                slowestStatus = clock.Elapsed > slowestStatus ? clock.Elapsed : slowestStatus;
            }
        }

        TestContext.Out.WriteLine($"dropped after {published} events; slowest status {slowestStatus.TotalMilliseconds:0.#} ms");
        Assert.That(events.SubscriberCount, Is.EqualTo(1), $"the stalled subscriber was dropped (after {published} events)");
        Assert.That(slowestStatus, Is.LessThan(TimeSpan.FromSeconds(1)), "status stays quick meanwhile (a generous bound)");

        // The reader carries on after the drop, and saw every event in order.
        events.Publish(new GitProcEvent { Type = EventTypes.ServiceRecord, Service = "web", To = "running" });
        Assert.That(await ProcScan.WaitUntilAsync(() => Volatile.Read(ref lastSeen) == published + 1, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(gaps, Is.Zero);

        // The stalled client, reading at last, finds the events the socket held, then why it was dropped, then the end.
        string? line;
        string? last = null;
        var count = 0;
        while ((line = await stalled.ReadLineAsync(token)) is not null)
        {
            last = line;
            count++;
        }

        Assert.That(count, Is.GreaterThan(1));
        using var goodbye = JsonDocument.Parse(last!);
        Assert.That(goodbye.RootElement.GetProperty("status").GetString(), Is.EqualTo("error"));
        Assert.That(goodbye.RootElement.GetProperty("error").GetString(), Does.StartWith("dropped: this subscriber fell 100 events behind"));

        await stopReading.CancelAsync();
        await reading;
        await active.DisposeAsync();
        await status.DisposeAsync();
        Assert.That(await ProcScan.WaitUntilAsync(() => events.SubscriberCount == 0 && host.Server.ConnectionCount <= 1, TimeSpan.FromSeconds(10)), Is.True,
            $"{events.SubscriberCount} subscribers and {host.Server.ConnectionCount} connections left");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task A_subscriber_that_disconnects_leaves_no_subscription_and_no_connection(CancellationToken token)
    {
        var events = new EventStream(Options.Create(new EventOptions()), TimeProvider.System);
        await using var host = await IpcTestServer.StartAsync(supervisor: new FixedStatusSupervisor(Web), events: events);
        for (var i = 0; i < 10; i++)
        {
            var client = await host.ConnectAsync();
            using (await client.RequestAsync("""{"command":"subscribe","service":"web","args":{"types":["service"]}}""")) { }
            events.Publish(new GitProcEvent { Type = EventTypes.ServiceRecord, Service = "web", To = "running" });
            await client.DisposeAsync();
        }

        Assert.That(await ProcScan.WaitUntilAsync(() => events.SubscriberCount == 0 && host.Server.ConnectionCount == 0, TimeSpan.FromSeconds(10)), Is.True,
            $"{events.SubscriberCount} subscribers and {host.Server.ConnectionCount} connections left");
    }
}
