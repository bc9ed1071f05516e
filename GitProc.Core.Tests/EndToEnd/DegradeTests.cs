using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// Degrade, never die (CONTRACT §9), with the real daemon: out of file descriptors it stays up, answers, keeps the
/// starts it cannot make waiting (never <c>failed</c>, never exit code 203) and makes them once descriptors return;
/// its services get their own open-file limit, never the raised one the daemon runs with.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class DegradeTests : SandboxFixture
{
    private const string Prlimit = "/usr/bin/prlimit";
    private const string Waiting = "waiting-for-resources";

    [Test]
    [CancelAfter(300_000)]
    public async Task Out_of_descriptors_the_daemon_stays_up_answers_and_starts_what_waits_once_descriptors_return(CancellationToken token)
    {
        RequirePrlimit();
        Sandbox.WriteUnit("first", Sandbox.Unit("first"));
        await Sandbox.CommitAsync("one service", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "first");

        // From here the daemon may open only 40 descriptors more than it holds now: about a dozen services' worth.
        // (Its limit is lowered while it runs, so the test is the same for the framework-dependent and native builds,
        // whose descriptor counts at rest differ a lot.)
        var pid = Sandbox.DaemonPid;
        var hard = ProcScan.OpenFileLimit(pid).Hard;
        await SetOpenFileLimitAsync(pid, Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count() + 40L, hard, token);
        var names = Enumerable.Range(1, 50).Select(i => string.Create(CultureInfo.InvariantCulture, $"s{i:00}")).ToArray();
        foreach (var name in names)
        {
            Sandbox.WriteUnit(name, Sandbox.Unit(name));
        }

        await Sandbox.CommitAsync("fifty services", token);

        var states = await WaitForStatesAsync(Sandbox, names, s => s.Waiting.Count > 0 && s.Running.Count + s.Waiting.Count == names.Length, "some run and the rest wait", token);
        Assert.That(ProcScan.IsAlive(pid), Is.True, "the daemon is alive");

        // It answers, and a waiting service says why, without an exit code or a failure of its own.
        var list = await Sandbox.ClientAsync(token, "list");
        Assert.That(list.ExitCode, Is.Zero, list.ToString);
        Assert.That(list.Lines[0], Is.EqualTo("Available services:"));
        CliResult? status = null;
        foreach (var name in states.Waiting)
        {
            // A retry may find a descriptor between the poll and this command: the first still waiting is shown.
            status = await Sandbox.ClientAsync(token, "status", name);
            Assert.That(status.ExitCode, Is.Zero, status.ToString);
            if (status.Lines.Contains($"Sub-State: {Waiting}"))
            {
                break;
            }
        }

        Assert.That(status!.Lines, Does.Contain("Status: stopped").And.Contain($"Sub-State: {Waiting}"), status.ToString);
        Assert.That(status.Lines, Has.Some.Match("^Failure: .*out of file descriptors"), status.ToString);
        Assert.That(status.Lines, Has.None.StartsWith("Last Exit Code:"), "no exit code 203: nothing was executed");

        // Stopping services gives descriptors back: waiting services start in their place.
        var stopped = states.Running.Where(n => n != "first").Take(10).ToList();
        foreach (var name in stopped)
        {
            var stop = await Sandbox.ClientAsync(token, "stop", name);
            Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
        }

        var runningBefore = states.Running.Count - stopped.Count;
        var others = names.Except(stopped).ToArray();
        await WaitForStatesAsync(Sandbox, others, s => s.Running.Count > runningBefore, "a waiting service starts in a stopped one's place", token);

        // With its limit back, every service that waits starts (the slowest retry is 30 s away).
        await SetOpenFileLimitAsync(pid, (long)hard, hard, token);
        await WaitForStatesAsync(Sandbox, others, s => s.Running.Count == others.Length, "every service that waited runs", token, TimeSpan.FromSeconds(90));
        Assert.That(ProcScan.IsAlive(pid), Is.True, "the daemon is alive");
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Services_get_their_LimitNOFILE_or_the_daemons_original_limit_never_the_raised_one(CancellationToken token)
    {
        RequirePrlimit();
        Sandbox.WriteUnit("plain", Sandbox.Unit("plain"));
        Sandbox.WriteUnit("narrow", Sandbox.Unit("narrow", "LimitNOFILE=100"));
        Sandbox.WriteUnit("split", Sandbox.Unit("split", "LimitNOFILE=256:4096"));
        await Sandbox.CommitAsync("three limits", token);

        await Sandbox.StartDaemonAsync(token, wrapper: [Prlimit, "--nofile=1024:8192", "--"]);
        var pids = await Sandbox.WaitRunningAsync(token, "plain", "narrow", "split");

        Assert.Multiple(() =>
        {
            Assert.That(ProcScan.OpenFileLimit(Sandbox.DaemonPid), Is.EqualTo((8192UL, 8192UL)), "the daemon raised its own soft limit to the hard one");
            Assert.That(ProcScan.OpenFileLimit(pids["plain"]), Is.EqualTo((1024UL, 8192UL)), "the daemon's original limit");
            Assert.That(ProcScan.OpenFileLimit(pids["narrow"]), Is.EqualTo((100UL, 100UL)));
            Assert.That(ProcScan.OpenFileLimit(pids["split"]), Is.EqualTo((256UL, 4096UL)));
        });
    }

    private static void RequirePrlimit()
    {
        if (!File.Exists(Prlimit))
        {
            Assert.Ignore($"Needs {Prlimit} (util-linux) to set a process's open-file limit.");
        }
    }

    /// <summary>Sets a running process's open-file limit (its hard limit stays: lowering it would be for good).</summary>
    private static async Task SetOpenFileLimitAsync(int pid, long soft, ulong hard, CancellationToken token)
    {
        using var prlimit = Process.Start(new ProcessStartInfo(Prlimit, ["--pid", pid.ToString(CultureInfo.InvariantCulture), $"--nofile={soft}:{hard}"])
        {
            RedirectStandardError = true,
        })!;
        var error = await prlimit.StandardError.ReadToEndAsync(token);
        await prlimit.WaitForExitAsync(token);
        Assert.That(prlimit.ExitCode, Is.Zero, error);
    }

    /// <summary>
    /// Polls the daemon until <paramref name="condition"/> holds over <paramref name="names"/>, failing at once if any
    /// of them is ever <c>failed</c> (the daemon's shortage is never the service's failure).
    /// </summary>
    private static async Task<States> WaitForStatesAsync(
        GitProcSandbox sandbox, string[] names, Func<States, bool> condition, string what, CancellationToken token, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var states = new States([], [], []);
        while (DateTime.UtcNow < deadline)
        {
            var list = await sandbox.ListAsync();
            var running = new List<string>();
            var waiting = new List<string>();
            var other = new List<string>();
            foreach (var name in names)
            {
                if (!list.TryGetValue(name, out var listed))
                {
                    other.Add(name);
                    continue;
                }

                Assert.That(listed.Status, Is.Not.EqualTo("failed"), $"{name} failed (exit code {listed.LastExitCode})\n{sandbox.DaemonOutput}");
                if (listed.Status == "running")
                {
                    running.Add(name);
                    continue;
                }

                var status = await sandbox.RequestAsync($$"""{"command":"status","service":"{{name}}"}""");
                var subState = status.GetProperty("data").TryGetProperty("sub_state", out var value) ? value.GetString() : null;
                (subState == Waiting ? waiting : other).Add(name);
            }

            states = new States(running, waiting, other);
            if (condition(states))
            {
                return states;
            }

            await Task.Delay(500, token);
        }

        Assert.Fail($"Timed out waiting until {what}: {states.Running.Count} running, {states.Waiting.Count} waiting, other: {string.Join(", ", states.Other)}");
        return states;
    }

    private sealed record States(List<string> Running, List<string> Waiting, List<string> Other);
}
