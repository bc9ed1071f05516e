using System.Globalization;
using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>gitproc daemon</c> as a container's main process: PID 1 of a new PID namespace
/// (<c>unshare --pid --fork --mount-proc</c>), where every orphan is re-parented to it and SIGTERM is how it is told to
/// stop (<c>docker stop</c>). As PID 1 it is a small init running the daemon as its child (see <c>ContainerInit</c>).
/// The test signals the namespace's PID 1 from outside, as a container engine does; <c>unshare</c> itself ignores
/// SIGTERM while its child runs and exits with the child's code.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class PidOneTests : SandboxFixture
{
    private string _unshare = null!;

    [SetUp]
    public async Task SetUp()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: creates a PID namespace (unshare --pid)");
        }

        _unshare = Tools.Require("unshare", "util-linux");
    }

    [TearDown]
    public async Task TearDown()
    {
        if (Sandbox is null)
        {
            return;
        }

        // After a failure midway the daemon still runs: signal it, not unshare (which ignores SIGTERM), as the test does.
        if (File.Exists(Sandbox.Socket) && TryDaemonInNamespace() is { } init)
        {
            _ = Interop.Processes.Kill(init, 15);
        }

        await Sandbox.DisposeAsync();
    }

    [Test]
    public async Task As_PID_1_it_reaps_orphans_keeps_its_services_exit_statuses_restarts_them_and_on_SIGTERM_stops_them_in_order_and_exits_0(CancellationToken token)
    {
        var order = Path.Combine(Sandbox.Root, "stop-order");
        var trapping = Path.Combine(Sandbox.Root, "trapping.sh");
        await File.WriteAllTextAsync(trapping, $$"""
            #!/bin/sh
            trap 'echo "$1 stopping" >> "{{order}}"; sleep 0.5; echo "$1 stopped" >> "{{order}}"; exit 0' TERM
            echo "hello from $1"
            sleep {{Sandbox.SleepSeconds}} &
            while :; do wait; done
            """, token);

        // Orphans for a few seconds (each subshell exits at once, leaving its sleep to PID 1), then one that lives
        // long enough to be seen as the daemon's child, while the other services start, exit and crash.
        var lastOrphan = "2." + Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        Sandbox.WriteUnit("orphans", $"""
            [Service]
            ExecStart=/bin/sh -c 'i=0; while [ $i -lt 30 ]; do (sleep 0.2 &); sleep 0.1; i=$((i+1)); done; (sleep {lastOrphan} &); exec sleep {Sandbox.SleepSeconds}'
            """);
        Sandbox.WriteUnit("db", $"[Service]\nExecStart=/bin/sh {trapping} db\n");
        Sandbox.WriteUnit("app", $"[Unit]\nRequires=db\nAfter=db\n[Service]\nExecStart=/bin/sh {trapping} app\n");
        Sandbox.WriteUnit("exiter", Sandbox.Unit("exiter", "Restart=no", "exit 7"));
        Sandbox.WriteUnit("crasher", Sandbox.Unit("crasher", "Restart=always\nRestartSec=200ms"));
        await Sandbox.CommitAsync("services", token);
        await Sandbox.StartDaemonAsync(token, wrapper: [_unshare, "--pid", "--fork", "--mount-proc", "--kill-child", "--"]);
        var init = DaemonInNamespace();
        Assert.That(NamespacePid(init), Is.EqualTo(1), "gitproc daemon is PID 1 of its namespace");
        var daemon = InNamespace(init).Single(p => p.ParentPid == init && p.Command.Contains(" daemon ", StringComparison.Ordinal)).Pid;

        // Its services keep their own exit statuses, however many orphans are reaped meanwhile.
        var crasher = (await Sandbox.WaitRunningAsync(token, "crasher", "app", "db", "orphans"))["crasher"];
        Assert.That(InNamespace(init).Single(p => p.Pid == HostPid(init, crasher)).ParentPid, Is.EqualTo(daemon), "services are the daemon's children");
        var exited = await Sandbox.WaitForListAsync(l => l["exiter"].Status == "failed", "exiter has exited with 7", token);
        Assert.That(exited["exiter"].LastExitCode, Is.EqualTo(7), Sandbox.DaemonOutput);
        Assert.That(Interop.Processes.Kill(HostPid(init, crasher), 9), Is.Zero);
        await Sandbox.WaitForListAsync(l => l["crasher"] is { Status: "running" } c && c.Pid != crasher, "crasher was restarted", token);
        var status = await Sandbox.ClientAsync(token, "status", "crasher");
        Assert.That(status.Lines, Does.Contain("Restarts: 1").And.Contain("Last Exit Code: 137").And.Contain("Last Exit: killed by signal 9"), status.ToString);

        // The orphans were PID 1's to reap, and it did: none is left as a zombie.
        Assert.That(await ProcScan.WaitUntilAsync(() => InNamespace(init).Any(p => p.Command.Contains(lastOrphan, StringComparison.Ordinal) && p.ParentPid == init), GitProcSandbox.Deadline),
            Is.True, "an orphan of the service was re-parented to PID 1");
        Assert.That(await ProcScan.WaitUntilAsync(() => !InNamespace(init).Any(p => p.Command.Contains(lastOrphan, StringComparison.Ordinal)) && Zombies(init).Count == 0, GitProcSandbox.Deadline),
            Is.True, () => "zombies left in the namespace: " + string.Join(", ", Zombies(init)) + "\n" + Sandbox.DaemonOutput);

        // docker stop: SIGTERM to PID 1; app stops before db, which it requires, and the exit code says all went well.
        Assert.That(Interop.Processes.Kill(init, 15), Is.Zero);
        Assert.That(await Sandbox.StopDaemonAsync(), Is.Zero, Sandbox.DaemonOutput);
        Assert.That(await File.ReadAllLinesAsync(order, token), Is.EqualTo(new[] { "app stopping", "app stopped", "db stopping", "db stopped" }), Sandbox.DaemonOutput);
    }

    [Test]
    public async Task As_PID_1_a_stop_that_cannot_save_the_state_exits_1_and_says_why(CancellationToken token)
    {
        using var stateFs = TinyTmpfs.Mount(Path.GetDirectoryName(Sandbox.State)!, "256k");
        Sandbox.WriteUnit("web", Sandbox.Unit("web"));
        await Sandbox.CommitAsync("web", token);
        await Sandbox.StartDaemonAsync(token, wrapper: [_unshare, "--pid", "--fork", "--mount-proc", "--kill-child", "--"]);
        var init = DaemonInNamespace();
        await Sandbox.WaitRunningAsync(token, "web");

        stateFs.FillUp();
        Assert.That(Interop.Processes.Kill(init, 15), Is.Zero);
        Assert.That(await Sandbox.StopDaemonAsync(), Is.EqualTo(1), Sandbox.DaemonOutput);
        Assert.That(Sandbox.DaemonOutput, Does.Contain("The daemon stopped, but not cleanly: the state could not be saved").And.Contain("No space left on device"));
        Assert.That(Sandbox.FindProcesses(), Is.Empty, "its services were stopped all the same");
    }

    /// <summary>The pid of the namespace's PID 1 (<c>gitproc daemon</c>) as this test sees it: the child of <c>unshare</c>.</summary>
    private int DaemonInNamespace()
    {
        var unshare = Sandbox.DaemonPid;
        var children = File.ReadAllText($"/proc/{unshare}/task/{unshare}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(children, Has.Length.EqualTo(1), "unshare --fork has one child, gitproc daemon");
        return int.Parse(children[0], CultureInfo.InvariantCulture);
    }

    private int? TryDaemonInNamespace()
    {
        try
        {
            return DaemonInNamespace();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or AssertionException)
        {
            return null;
        }
    }

    /// <summary>A process's pid inside its own PID namespace (the last NSpid of its status); -1 when it is gone.</summary>
    private static int NamespacePid(int hostPid)
    {
        try
        {
            return int.Parse(
                File.ReadAllLines($"/proc/{hostPid}/status").Single(l => l.StartsWith("NSpid:", StringComparison.Ordinal))
                    .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[^1],
                CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>The pid this test must signal for the process the daemon reports as <paramref name="namespacePid"/>.</summary>
    private static int HostPid(int init, int namespacePid) =>
        InNamespace(init).Single(p => NamespacePid(p.Pid) == namespacePid).Pid;

    private static List<string> Zombies(int init) =>
        [.. InNamespace(init).Where(p => p.State == 'Z').Select(p => $"{p.Pid} (parent {p.ParentPid})")];

    /// <summary>Every process in the PID namespace of <paramref name="init"/>, as seen from here.</summary>
    private static List<(int Pid, char State, int ParentPid, string Command)> InNamespace(int init)
    {
        var found = new List<(int, char, int, string)>();
        string ns;
        try
        {
            ns = new FileInfo($"/proc/{init}/ns/pid").LinkTarget ?? "";
        }
        catch (IOException)
        {
            return found;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                if (new FileInfo(Path.Combine(directory, "ns", "pid")).LinkTarget != ns)
                {
                    continue;
                }

                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var command = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                found.Add((pid, fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture), command));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone while we looked.
            }
        }

        return found;
    }
}
