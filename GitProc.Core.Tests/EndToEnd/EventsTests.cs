using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.Json;
using GitProc.Core.Tests.TestSupport;
using GitProc.Events;
using GitProc.Ipc;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The event stream (CONTRACT §13) with the real daemon, socket, processes and CLI: <c>gitproc events</c> shows what
/// happens in order, a bad commit shows applied then rolled back, many subscribers all hear, filters filter, and a
/// subscriber that leaves leaves nothing behind.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class EventsTests : SandboxFixture
{
    [SetUp]
    public async Task SetUp()
    {
        await Sandbox.WriteConfigAsync("""
            "Delivery": { "VerifyWindow": "00:00:03" }
            """);
    }

    private async Task StartWithAsync(CancellationToken token, params string[] names)
    {
        foreach (var name in names)
        {
            Sandbox.WriteUnit(name, Sandbox.Unit(name, "Restart=always\nRestartSec=100ms"));
        }

        await Sandbox.CommitAsync("services", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, names);

        // Past the first commit's verify window, so a test's own commit is not what supersedes it.
        var verdict = await Sandbox.RequestAsync("""{"command":"sync","args":{"wait":true}}""");
        Assert.That(verdict.GetProperty("data").GetProperty("result").GetString(), Is.EqualTo("applied"), verdict.ToString);
    }

    [Test]
    public async Task Events_shows_a_kill_and_the_restart_in_order_and_ends_with_exit_0_on_SIGTERM(CancellationToken token)
    {
        await StartWithAsync(token, "web", "probe");
        using var events = Sandbox.StartClient("events");
        var lines = new LineCollector(events.StandardOutput);
        await WaitSubscribedAsync(lines, token);

        var pid = (await Sandbox.ListAsync())["web"].Pid!.Value;
        _ = Interop.Processes.Kill(pid, 9);
        var restarted = await lines.WaitForAsync(l => l.Contains(" web failed -> running", StringComparison.Ordinal), token);

        var web = lines.Snapshot().Where(l => l.Contains(" web ", StringComparison.Ordinal)).ToList();
        Assert.That(web, Has.Count.EqualTo(2), string.Join('\n', web));
        Assert.That(web[0], Does.Match(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d web running -> failed \(killed by signal 9\), auto-restart$"));
        Assert.That(web[1], Does.Match(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d web failed -> running, pid \d+, restarts 1$"));
        var newPid = (await Sandbox.ListAsync())["web"].Pid;
        Assert.That(restarted, Does.Contain($"pid {newPid},"));

        _ = Interop.Processes.Kill(events.Id, 15);
        Assert.That(events.WaitForExit(15_000), Is.True, "events ends on SIGTERM");
        Assert.That(events.ExitCode, Is.Zero, await events.StandardError.ReadToEndAsync(token));
    }

    [Test]
    public async Task Events_json_prints_the_objects_as_sent_and_exits_1_when_the_daemon_stops(CancellationToken token)
    {
        await StartWithAsync(token, "probe");
        using var events = Sandbox.StartClient("events", "--json", "--service", "probe");
        var lines = new LineCollector(events.StandardOutput);
        await WaitSubscribedAsync(lines, token);

        Assert.That((await Sandbox.ClientAsync(token, "restart", "probe")).ExitCode, Is.Zero);
        using (var first = JsonDocument.Parse(await lines.WaitForAsync(l => l.Contains("probe", StringComparison.Ordinal), token)))
        {
            var e = first.RootElement;
            Assert.That(e.GetProperty("type").GetString(), Is.EqualTo("service.state"));
            Assert.That(e.GetProperty("service").GetString(), Is.EqualTo("probe"));
            Assert.That(e.GetProperty("seq").GetInt64(), Is.Positive);
            Assert.That(e.GetProperty("time").GetDateTimeOffset().Offset, Is.EqualTo(TimeSpan.Zero), "UTC");
            Assert.That(e.TryGetProperty("to_sub_state", out _), Is.True, "snake_case keys");
        }

        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero);
        Assert.That(events.WaitForExit(15_000), Is.True, "events ends when the daemon closes the stream");
        Assert.That(events.ExitCode, Is.EqualTo(1));
        Assert.That(await events.StandardError.ReadToEndAsync(token), Does.Contain("closed the event stream"));
    }

    [Test]
    public async Task A_crash_looping_commit_shows_applied_then_rolled_back(CancellationToken token)
    {
        await StartWithAsync(token, "web");
        var good = (await Sandbox.GitAsync(token, "rev-parse", "HEAD")).Trim();
        await using var client = new GitProcClient(Sandbox.Socket);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var received = new List<GitProcEvent>();
        var reading = Task.Run(async () =>
        {
            await foreach (var e in client.SubscribeAsync(types: ["commit"], cancellationToken: stop.Token))
            {
                lock (received)
                {
                    received.Add(e);
                }

                if (e.Type == EventTypes.CommitRolledBack)
                {
                    return;
                }
            }
        }, token);
        await Task.Delay(500, token); // the subscription is in place once the daemon answered; this only spares a retry

        Sandbox.WriteUnit("web", """
            [Service]
            ExecStart=/bin/sh -c 'exit 3'
            Restart=on-failure
            RestartSec=100ms

            """);
        var bad = await Sandbox.CommitAsync("break web", token);
        await reading.WaitAsync(TimeSpan.FromSeconds(30), token);

        Assert.That(received.Select(e => e.Type), Is.EqualTo(new[] { EventTypes.CommitApplied, EventTypes.CommitRolledBack }));
        Assert.That(received[0].Commit, Is.EqualTo(bad));
        Assert.That(received[0].Restarted, Is.EqualTo(new[] { "web" }));
        Assert.That(received[1].Commit, Is.EqualTo(bad));
        Assert.That(received[1].RestoredCommit, Is.EqualTo(good));
        Assert.That(received[1].Reason, Does.Contain("web"));
        Assert.That(received[1].Seq, Is.GreaterThan(received[0].Seq));
    }

    [Test]
    public async Task A_hundred_subscribers_all_receive_an_event_and_filters_keep_out_the_rest(CancellationToken token)
    {
        await StartWithAsync(token, "web", "worker");
        var all = new List<RawIpcClient>();
        try
        {
            for (var i = 0; i < 100; i++)
            {
                var client = await RawIpcClient.ConnectAsync(Sandbox.Socket);
                all.Add(client);
                using var reply = await client.RequestAsync("""{"command":"subscribe"}""");
                Assert.That(reply.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"), reply.RootElement.ToString);
            }

            await using var workerOnly = await RawIpcClient.ConnectAsync(Sandbox.Socket);
            using (var reply = await workerOnly.RequestAsync("""{"command":"subscribe","service":"worker"}"""))
            {
                Assert.That(reply.RootElement.GetProperty("data").GetProperty("service").GetString(), Is.EqualTo("worker"));
            }

            await using var commitsOnly = await RawIpcClient.ConnectAsync(Sandbox.Socket);
            using (var reply = await commitsOnly.RequestAsync("""{"command":"subscribe","args":{"types":["commit"]}}"""))
            {
                Assert.That(reply.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
            }

            var stop = await Sandbox.ClientAsync(token, "stop", "web");
            Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
            var lines = await Task.WhenAll(all.Select(c => c.ReadLineAsync(token)));
            foreach (var line in lines)
            {
                using var e = JsonDocument.Parse(line ?? throw new AssertionException("a subscriber's stream ended"));
                Assert.That(e.RootElement.GetProperty("type").GetString(), Is.EqualTo("service.state"));
                Assert.That(e.RootElement.GetProperty("service").GetString(), Is.EqualTo("web"));
                Assert.That(e.RootElement.GetProperty("to").GetString(), Is.EqualTo("stopped"));
                Assert.That(e.RootElement.GetProperty("reason").GetString(), Is.EqualTo("stopped by an operator"));
            }

            Assert.That(lines.Distinct().Count(), Is.EqualTo(1), "every subscriber got the same event");

            // The filtered ones saw nothing of web: their first line is worker's, resp. a commit's.
            Assert.That((await Sandbox.ClientAsync(token, "stop", "worker")).ExitCode, Is.Zero);
            using (var e = JsonDocument.Parse((await workerOnly.ReadLineAsync(token))!))
            {
                Assert.That(e.RootElement.GetProperty("service").GetString(), Is.EqualTo("worker"));
            }

            Sandbox.WriteUnit("extra", Sandbox.Unit("extra"));
            var commit = await Sandbox.CommitAsync("extra", token);
            using (var e = JsonDocument.Parse((await commitsOnly.ReadLineAsync(token))!))
            {
                Assert.That(e.RootElement.GetProperty("type").GetString(), Is.EqualTo("commit.applied"));
                Assert.That(e.RootElement.GetProperty("commit").GetString(), Is.EqualTo(commit));
            }
        }
        finally
        {
            foreach (var client in all)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task Bad_filters_are_errors_that_name_what_is_wrong(CancellationToken token)
    {
        await StartWithAsync(token, "web");
        var unknownType = await Sandbox.RequestAsync("""{"command":"subscribe","args":{"types":["service.stat"]}}""");
        Assert.That(unknownType.GetProperty("error").GetString(), Does.StartWith("unknown event type in args.types: service.stat"));
        var unknownService = await Sandbox.RequestAsync("""{"command":"subscribe","service":"nope"}""");
        Assert.That(unknownService.GetProperty("status").GetString(), Is.EqualTo("error"));
        Assert.That(unknownService.GetProperty("error").GetString(), Does.Contain("nope"));
        var cli = await Sandbox.ClientAsync(token, "events", "--service", "nope");
        Assert.That(cli.ExitCode, Is.EqualTo(1));
        Assert.That(cli.Stderr, Does.Contain("nope"));
    }

    [Test]
    public async Task Subscribers_that_disconnect_mid_stream_leave_no_descriptor_behind(CancellationToken token)
    {
        await StartWithAsync(token, "web");
        var baseline = DescriptorCount(Sandbox.DaemonPid);
        await using var staying = await RawIpcClient.ConnectAsync(Sandbox.Socket);
        using (await staying.RequestAsync("""{"command":"subscribe","service":"web"}""")) { }

        for (var i = 0; i < 20; i++)
        {
            var leaving = await RawIpcClient.ConnectAsync(Sandbox.Socket);
            using (await leaving.RequestAsync("""{"command":"subscribe"}""")) { }
            if (i % 2 == 0)
            {
                await leaving.DisposeAsync();
            }
            else
            {
                // Half leave with events in flight.
                Assert.That((await Sandbox.ClientAsync(token, "restart", "web")).ExitCode, Is.Zero);
                await leaving.DisposeAsync();
            }
        }

        Assert.That((await Sandbox.ClientAsync(token, "restart", "web")).ExitCode, Is.Zero);
        Assert.That(await staying.ReadLineAsync(token), Does.Contain("\"service\":\"web\""), "the subscriber that stayed still receives");
        Assert.That(
            await ProcScan.WaitUntilAsync(() => DescriptorCount(Sandbox.DaemonPid) <= baseline + 1, TimeSpan.FromSeconds(10)),
            Is.True,
            $"the daemon holds {DescriptorCount(Sandbox.DaemonPid)} descriptors, {baseline} before (+1 for the one staying)");
    }

    private static int DescriptorCount(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    /// <summary>Stops and starts <c>probe</c> until the stream shows it: then the subscription is surely in place.</summary>
    private async Task WaitSubscribedAsync(LineCollector lines, CancellationToken token)
    {
        for (var attempt = 0; attempt < 20 && !lines.Snapshot().Any(l => l.Contains("probe", StringComparison.Ordinal)); attempt++)
        {
            Assert.That((await Sandbox.ClientAsync(token, "restart", "probe")).ExitCode, Is.Zero);
            await lines.WaitForAsync(l => l.Contains("probe", StringComparison.Ordinal), token, TimeSpan.FromSeconds(2), throwOnTimeout: false);
        }

        await lines.WaitForAsync(l => l.Contains("probe", StringComparison.Ordinal) && l.Contains("running", StringComparison.Ordinal)
            && (l.Contains("-> running", StringComparison.Ordinal) || l.Contains("\"to\":\"running\"", StringComparison.Ordinal)), token);
        lines.Clear();
    }

    /// <summary>Reads a process's output lines in the background.</summary>
    private sealed class LineCollector
    {
        private readonly List<string> _lines = [];

        public LineCollector(StreamReader reader) => _ = Task.Run(async () =>
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                lock (_lines)
                {
                    _lines.Add(line);
                }
            }
        });

        public List<string> Snapshot()
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }

        public void Clear()
        {
            lock (_lines)
            {
                _lines.Clear();
            }
        }

        public async Task<string> WaitForAsync(Func<string, bool> match, CancellationToken token, TimeSpan? timeout = null, bool throwOnTimeout = true)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(20)))
            {
                if (Snapshot().FirstOrDefault(match) is { } line)
                {
                    return line;
                }

                await Task.Delay(20, token);
            }

            return throwOnTimeout ? throw new AssertionException("not seen in time; lines so far:\n" + string.Join('\n', Snapshot())) : "";
        }
    }
}
