using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.RegularExpressions;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The real daemon out of file descriptors (CONTRACT §9, "Degrade, never die"). Only the daemon's own soft limit is
/// lowered (with <c>prlimit --pid</c>), never the test host's, and it is put back before the daemon stops.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public class DescriptorShortageTests
{
    private const string ListRequest = """{"command":"list"}""";
    private const string OutOfDescriptors = "Out of file descriptors: new gitproc clients on";

    [Test]
    public async Task Out_of_descriptors_the_daemon_keeps_serving_open_connections_without_spinning_and_accepts_again_later(CancellationToken token)
    {
        var prlimit = new[] { "/usr/bin/prlimit", "/bin/prlimit" }.FirstOrDefault(File.Exists);
        Assume.That(prlimit, Is.Not.Null, "needs prlimit (util-linux) to lower the daemon's descriptor limit");
        await using var sandbox = await GitProcSandbox.CreateAsync(token);

        // No client before the shortage, so nothing the daemon needs to serve one was loaded on demand before.
        await sandbox.StartDaemonAsync(token, connect: false);
        Assert.That(await SettledAsync(sandbox), Is.True, "the daemon has finished starting:\n" + sandbox.DaemonOutput);
        var clients = new List<RawIpcClient>();
        try
        {
            await ServeThroughAShortageAsync(sandbox, prlimit!, clients, token);
        }
        catch (Exception ex) when (ex is not AssertionException && !token.IsCancellationRequested)
        {
            throw new AssertionException($"{ex.Message}\n--- descriptors: {string.Join(' ', Descriptors(sandbox.DaemonPid))}\n--- daemon output ---\n{sandbox.DaemonOutput}", ex);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }

        // The log is written asynchronously.
        await ProcScan.WaitUntilAsync(() => sandbox.DaemonOutput.Contains("descriptors are available again", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        var output = sandbox.DaemonOutput;
        Assert.Multiple(() =>
        {
            Assert.That(output.Split('\n').Count(l => l.Contains(OutOfDescriptors, StringComparison.Ordinal)), Is.EqualTo(1), "said once, not once per retry");
            Assert.That(output, Does.Contain("File descriptors are available again: accepting gitproc clients"));
            Assert.That(output, Does.Not.Contain("Exception"), "nothing failed or was left broken by the shortage");
        });
    }

    private static async Task ServeThroughAShortageAsync(GitProcSandbox sandbox, string prlimit, List<RawIpcClient> clients, CancellationToken token)
    {
        var pid = sandbox.DaemonPid;
        var originalLimit = SoftDescriptorLimit(pid);
        try
        {
            // The first client connects first; then about one descriptor is left free, which the daemon's own
            // passing needs or the next client takes. (Connecting after lowering the limit would race the daemon's
            // own brief use of its lowest free descriptor.) Its first request is served in the shortage.
            var keeper = await RawIpcClient.ConnectAsync(sandbox.Socket);
            clients.Add(keeper);
            Assert.That(await ProcScan.WaitUntilAsync(() => Descriptors(pid).Count() > 0 && Accepted(pid), TimeSpan.FromSeconds(10)), Is.True);
            await SetSoftDescriptorLimitAsync(prlimit, pid, LimitLeavingOneFree(pid), token);
            using (var first = await keeper.RequestAsync(ListRequest))
            {
                Assert.That(first.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"), first.RootElement.ToString);
            }

            // These wait in the backlog.
            for (var i = 0; i < 20; i++)
            {
                var client = await RawIpcClient.ConnectAsync(sandbox.Socket);
                clients.Add(client);
                await client.SendLineAsync(ListRequest);
            }

            Assert.That(
                await ProcScan.WaitUntilAsync(() => sandbox.DaemonOutput.Contains(OutOfDescriptors, StringComparison.Ordinal), TimeSpan.FromSeconds(20)),
                Is.True,
                "the daemon noticed it is out of descriptors");

            // While short, the daemon keeps answering the connection it has and does not spin. The first seconds
            // are left out of the measure: a freshly started (JIT) daemon spends them compiling.
            await KeepAskingAsync(keeper, TimeSpan.FromSeconds(2), token);
            var cpuBefore = CpuTicks(pid);
            var watch = Stopwatch.StartNew();
            await KeepAskingAsync(keeper, TimeSpan.FromSeconds(3), token);
            var cpuShare = (CpuTicks(pid) - cpuBefore) / 100.0 / watch.Elapsed.TotalSeconds;
            TestContext.Out.WriteLine($"daemon CPU while out of descriptors: {cpuShare:P0} of a core");
            Assert.That(cpuShare, Is.LessThan(0.25), "a generous bound: a spinning accept loop takes most of a core");
        }
        finally
        {
            await SetSoftDescriptorLimitAsync(prlimit, pid, originalLimit, CancellationToken.None);
        }

        // With descriptors back, the accept loop takes the queued clients: each gets its answer.
        foreach (var client in clients.Skip(1))
        {
            var line = await client.ReadLineAsync(token);
            Assert.That(line, Is.Not.Null, "a queued client is answered once descriptors are back");
            using var response = JsonDocument.Parse(line!);
            Assert.That(response.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"), line);
        }
    }

    /// <summary>
    /// A soft limit under which about one descriptor number is free. The limit counts numbers, not open descriptors:
    /// it is the second number free in the daemon's table. The daemon briefly closes and reopens some descriptors (its
    /// reserve, a state write), so a number counts as used if any of a few readings saw it open.
    /// </summary>
    /// <summary>Whether the daemon holds a connected Unix socket besides its listener (the first client was accepted).</summary>
    private static bool Accepted(int pid) =>
        Directory.GetFiles($"/proc/{pid}/fd").Count(f => new FileInfo(f).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true) >= 2;

    private static IEnumerable<int> Descriptors(int pid) =>
        Directory.GetFiles($"/proc/{pid}/fd").Select(f => int.Parse(Path.GetFileName(f), CultureInfo.InvariantCulture)).Order();

    private static int LimitLeavingOneFree(int pid)
    {
        var used = new HashSet<int>();
        for (var reading = 0; reading < 5; reading++)
        {
            used.UnionWith(Descriptors(pid));
            Thread.Sleep(50);
        }

        var free = 0;
        for (var number = 0; ; number++)
        {
            if (!used.Contains(number) && ++free == 2)
            {
                return number;
            }
        }
    }

    /// <summary>
    /// Whether the daemon has started and its descriptors and threads stay the same for a second: its background
    /// services (the branch watcher starts a thread) must not start in the shortage, which is another test's matter.
    /// </summary>
    private static async Task<bool> SettledAsync(GitProcSandbox sandbox)
    {
        var pid = sandbox.DaemonPid;
        string Footprint() =>
            $"{Directory.GetFiles($"/proc/{pid}/fd").Length}/{Directory.GetDirectories($"/proc/{pid}/task").Length}";

        var deadline = Stopwatch.StartNew();
        var last = "";
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var now = Footprint();
            if (now == last && sandbox.DaemonOutput.Contains("Application started", StringComparison.Ordinal))
            {
                return true;
            }

            last = now;
            await Task.Delay(1_000);
        }

        return false;
    }

    private static async Task KeepAskingAsync(RawIpcClient client, TimeSpan duration, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            using var list = await client.RequestAsync(ListRequest);
            Assert.That(list.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"), list.RootElement.ToString);
            await Task.Delay(250, cancellationToken);
        }
    }

    private static long SoftDescriptorLimit(int pid)
    {
        // "Max open files            20000                20000                files"
        var line = File.ReadLines($"/proc/{pid}/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = Regex.Split(line["Max open files".Length..].Trim(), @"\s+");
        return long.Parse(fields[0], CultureInfo.InvariantCulture);
    }

    private static async Task SetSoftDescriptorLimitAsync(string prlimit, int pid, long limit, CancellationToken cancellationToken)
    {
        using var process = Process.Start(new ProcessStartInfo(prlimit, ["--pid", pid.ToString(CultureInfo.InvariantCulture), $"--nofile={limit}:"])
        {
            RedirectStandardError = true,
        })!;
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        Assert.That(process.ExitCode, Is.Zero, error);
        Assert.That(SoftDescriptorLimit(pid), Is.EqualTo(limit));
    }

    /// <summary>User and system CPU time of a process, in clock ticks (1/100 s).</summary>
    private static long CpuTicks(int pid)
    {
        // The fields after the command name, which is in parentheses and may contain spaces: utime is the 12th, stime the 13th.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}
