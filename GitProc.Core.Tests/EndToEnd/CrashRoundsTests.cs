using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// Rounds of <c>kill -9</c> of the real daemon at random moments — idle, during a commit, during an operator's
/// start or stop, right after an acknowledged stop — with 20 services, checking after each round what CONTRACT §9
/// promises: the state parses, no acknowledged operation is lost, no service runs twice, nothing runs unmanaged, no
/// unchanged running service was restarted, and a chatty service's output still reaches its log whole. CI runs a
/// few rounds; <c>bench/reliability.sh</c> runs 50 (<c>GITPROC_RELIABILITY_ROUNDS</c>) and writes the figures of
/// <c>docs/reliability.md</c> (<c>GITPROC_RELIABILITY_REPORT</c>).
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[Category("Reliability")]
public sealed class CrashRoundsTests : SandboxFixture
{
    private const int Sleepers = 19;

    private readonly Random _random = new(Environment.GetEnvironmentVariable("GITPROC_RELIABILITY_SEED") is { } seed
        ? int.Parse(seed, CultureInfo.InvariantCulture)
        : Environment.TickCount);

    private static int Rounds =>
        int.TryParse(Environment.GetEnvironmentVariable("GITPROC_RELIABILITY_ROUNDS"), CultureInfo.InvariantCulture, out var rounds) ? rounds : 6;

    private enum Moment
    {
        Idle,
        DuringCommit,
        DuringCommand,
        RightAfterAcknowledgedStop,
    }

    [Test]
    [CancelAfter(1_800_000)]
    public async Task Killing_the_daemon_at_random_moments_loses_nothing_and_restarts_nothing_unchanged(CancellationToken token)
    {
        var names = Enumerable.Range(1, Sleepers).Select(i => $"s{i:00}").ToList();
        foreach (var name in names)
        {
            Sandbox.WriteUnit(name, Sandbox.Unit(name, "Restart=always\nRestartSec=0"));
        }

        Sandbox.WriteUnit("counter", CounterLog.Unit("0.01"));
        await Sandbox.CommitAsync("20 services", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, [.. names, "counter"]);

        var report = new RoundsReport();
        var stopped = new HashSet<string>(StringComparer.Ordinal);
        var version = 0;
        for (var round = 1; round <= Rounds; round++)
        {
            var moment = (Moment)(round % 4);
            var before = await Sandbox.ListAsync();
            var touched = new HashSet<string>(StringComparer.Ordinal);
            var acknowledged = new Dictionary<string, string>(StringComparer.Ordinal);
            switch (moment)
            {
                case Moment.Idle:
                    await Task.Delay(_random.Next(0, 300), token);
                    await Sandbox.KillDaemonAsync();
                    break;

                case Moment.DuringCommit:
                    var changed = names[_random.Next(names.Count)];
                    touched.Add(changed);
                    Sandbox.WriteUnit(changed, Sandbox.Unit(changed, $"Restart=always\nRestartSec=0\nEnvironment=VERSION={++version}"));
                    await Sandbox.CommitAsync($"change {changed}", token);
                    await Task.Delay(_random.Next(0, 120), token);
                    await Sandbox.KillDaemonAsync();
                    break;

                case Moment.DuringCommand:
                    var target = names[_random.Next(names.Count)];
                    touched.Add(target);
                    var command = stopped.Contains(target) ? "start" : "stop";
                    await using (var client = await RawIpcClient.ConnectAsync(Sandbox.Socket))
                    {
                        await client.SendLineAsync($$"""{"command":"{{command}}","service":"{{target}}"}""");
                        await Task.Delay(_random.Next(0, 15), token);
                        await Sandbox.KillDaemonAsync();
                        if (await client.ReadLineAsync(token) is { } line && line.Contains("\"success\"", StringComparison.Ordinal))
                        {
                            acknowledged[target] = command;
                        }
                    }

                    break;

                case Moment.RightAfterAcknowledgedStop:
                    var victim = names.First(n => !stopped.Contains(n));
                    touched.Add(victim);
                    await using (var client = await RawIpcClient.ConnectAsync(Sandbox.Socket))
                    {
                        using var answer = await client.RequestAsync($$"""{"command":"stop","service":"{{victim}}"}""");
                        await Sandbox.KillDaemonAsync();
                        Assert.That(answer.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
                        acknowledged[victim] = "stop";
                    }

                    break;
            }

            report.Acknowledged += acknowledged.Count;
            await Sandbox.StartDaemonAsync(token);
            await Sandbox.WaitForListAsync(
                l => l.Values.All(s => s is { Status: "running", Pid: not null } or { Status: "stopped" }),
                $"round {round}: every service settles",
                token);
            var after = await SettleAsync(names, token);
            Check(round, moment, names, before, after, acknowledged, touched, report);
            stopped = [.. names.Where(n => after[n].Status == "stopped")];

            // Now and then bring a stopped service back, so the rounds keep a full house to kill under.
            if (stopped.Count > 3)
            {
                var revived = stopped.First();
                var start = await Sandbox.ClientAsync(token, "start", revived);
                Assert.That(start.ExitCode, Is.Zero, start.ToString);
                stopped.Remove(revived);
            }
        }

        // The counter wrote all along: every line reached its log once, whole and in order.
        var counter = CounterLog.Values(Path.Combine(Sandbox.Logs, "counter.log"));
        report.CounterLines = counter.Count;
        report.CounterLinesLost = counter.Count == 0 ? 0 : counter[^1] - counter.Count;
        CounterLog.AssertComplete(counter);

        report.Rounds = Rounds;
        var json = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true });
        TestContext.Out.WriteLine(json);
        if (Environment.GetEnvironmentVariable("GITPROC_RELIABILITY_REPORT") is { Length: > 0 } path)
        {
            await File.WriteAllTextAsync($"{path}.rounds.json", json, token);
        }

        Assert.That(report.Failures, Is.Empty, string.Join('\n', report.Failures));
    }

    /// <summary>Waits until what every service's state says holds on the machine too (one process per running service).</summary>
    private async Task<IReadOnlyDictionary<string, ListedService>> SettleAsync(List<string> names, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + GitProcSandbox.Deadline;
        while (true)
        {
            var list = await Sandbox.ListAsync();
            if (names.All(n => MainProcesses(n).Count == (list[n].Status == "running" ? 1 : 0)) || DateTime.UtcNow > deadline)
            {
                return list;
            }

            await Task.Delay(50, token);
        }
    }

    private void Check(
        int round,
        Moment moment,
        List<string> names,
        IReadOnlyDictionary<string, ListedService> before,
        IReadOnlyDictionary<string, ListedService> after,
        Dictionary<string, string> acknowledged,
        HashSet<string> touched,
        RoundsReport report)
    {
        void Fail(string what) => report.Failures.Add($"round {round} ({moment}): {what}");

        try
        {
            using var state = JsonDocument.Parse(File.ReadAllText(Sandbox.State));
        }
        catch (JsonException ex)
        {
            report.StateUnreadable++;
            Fail($"the state does not parse: {ex.Message}");
        }

        foreach (var (service, command) in acknowledged)
        {
            var expected = command == "stop" ? "stopped" : "running";
            if (after[service].Status != expected)
            {
                report.LostAcknowledgements++;
                Fail($"acknowledged {command} of {service} was lost: it is {after[service].Status}");
            }
        }

        foreach (var name in names)
        {
            var processes = MainProcesses(name);
            var running = after[name].Status == "running";
            if (processes.Count > 1)
            {
                report.RunningTwice++;
                Fail($"{name} runs {processes.Count} times: {string.Join(' ', processes)}");
            }
            else if (!running && processes.Count == 1)
            {
                report.Unmanaged++;
                Fail($"{name} is {after[name].Status} but its process {processes[0]} runs unmanaged");
            }
            else if (running && processes.Count == 1 && processes[0] != after[name].Pid)
            {
                report.Unmanaged++;
                Fail($"{name} runs as {processes[0]} but the daemon says {after[name].Pid}");
            }

            if (!touched.Contains(name) && before[name] is { Status: "running", Pid: { } old } && after[name].Pid != old)
            {
                report.RestartsOfUnchanged++;
                Fail($"{name} was running, unchanged, and was restarted ({old} → {after[name].Pid})");
            }
        }
    }

    /// <summary>Live main processes of a sandbox service (<c>sh service.sh NAME …</c>).</summary>
    private List<int> MainProcesses(string name) =>
        [.. ProcScan.FindByCommandLine($"service.sh {name} {Sandbox.SleepSeconds}")
            .Where(pid => File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("/bin/sh\0", StringComparison.Ordinal))];

    /// <summary>The figures of docs/reliability.md.</summary>
    private sealed class RoundsReport
    {
        public int Rounds { get; set; }

        public int Acknowledged { get; set; }

        public int LostAcknowledgements { get; set; }

        public int RunningTwice { get; set; }

        public int Unmanaged { get; set; }

        public int RestartsOfUnchanged { get; set; }

        public int StateUnreadable { get; set; }

        public int CounterLines { get; set; }

        public int CounterLinesLost { get; set; }

        public List<string> Failures { get; } = [];
    }
}
