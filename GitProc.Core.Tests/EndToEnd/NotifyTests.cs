using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Versioning;
using System.Text.Json;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>Type=notify</c> and the watchdog (CONTRACT §11) against the real daemon, with real senders: Debian's
/// <c>systemd-notify</c>, a Python 3 sender that sends with its own credentials, and the sample .NET worker
/// (<c>samples/NotifyWorker</c>, <c>UseSystemd()</c>). Needs root for cgroups (NotifyAccess=all checks the cgroup).
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(180_000)]
public sealed class NotifyTests : SandboxFixture
{
    // The Python sender: sd_notify over NOTIFY_SOCKET, as a program in any language does it.
    private const string Sender = """
        import os, socket, sys, time

        def notify(*lines, to=None):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                s.sendto("\n".join(lines).encode(), to or os.environ["NOTIFY_SOCKET"])
            except OSError:
                pass
            finally:
                s.close()

        mode = sys.argv[1]
        if mode == "mainpid":
            child = os.fork()
            if child == 0:
                os.execvp("sleep", ["sleep", sys.argv[2]])
            notify("MAINPID=%d" % child, "STATUS=handed over to %d" % child, "READY=1")
            time.sleep(1)
            sys.exit(0)
        elif mode == "stopping":
            notify("READY=1", "STATUS=up")
            time.sleep(0.5)
            notify("STOPPING=1", "STATUS=shutting down")
            time.sleep(3600)
        elif mode == "watchdog":
            stop = sys.argv[2]
            if os.path.exists(stop):
                os.remove(stop)
            mine = os.environ.get("WATCHDOG_PID") == str(os.getpid()) == os.environ.get("SYSTEMD_EXEC_PID")
            notify("READY=1", "STATUS=watchdog %s usec=%s" % ("pid-ok" if mine else "pid-wrong", os.environ.get("WATCHDOG_USEC")))
            while True:
                if not os.path.exists(stop):
                    notify("WATCHDOG=1")
                time.sleep(0.2)
        elif mode == "forge":
            while True:
                notify("READY=1", "STATUS=forged", to=sys.argv[2])
                time.sleep(0.1)
        """;

    [Test]
    public async Task Start_returns_after_READY_from_systemd_notify_a_dependent_starts_only_after_it_and_status_shows_STATUS(CancellationToken token)
    {
        RequireRoot();
        var notify = Tools.Require("systemd-notify", "systemd");
        var root = Sandbox.Root;

        // systemd-notify sends from its own PID (it is not the main process), so NotifyAccess=all, as systemd advises.
        Sandbox.WriteUnit("db", $"""
            [Service]
            Type=notify
            NotifyAccess=all
            ExecStart=/bin/sh -c 'sleep 2; date +%%s.%%N > {root}/db-ready; {notify} --ready --status="serving requests"; exec sleep {Sandbox.SleepSeconds}'
            """);
        Sandbox.WriteUnit("web", $"""
            [Unit]
            After=db
            Requires=db

            [Service]
            ExecStart=/bin/sh -c 'date +%%s.%%N > {root}/web-started; exec sleep {Sandbox.SleepSeconds}'
            """);
        await Sandbox.CommitAsync("db and web", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "db", "web");

        var ready = await ReadTimeAsync(Path.Combine(root, "db-ready"), token);
        var webStarted = await ReadTimeAsync(Path.Combine(root, "web-started"), token);
        Assert.That(webStarted, Is.GreaterThanOrEqualTo(ready), "web (After=db) started only once db had sent READY=1");

        var status = await Sandbox.ClientAsync(token, "status", "db");
        Assert.That(status.ExitCode, Is.Zero, status.ToString);
        Assert.That(status.Lines[..2], Is.EqualTo(new[] { "Service: db", "Status: running" }));
        Assert.That(status.Lines, Does.Contain("Status Text: serving requests"));
        Assert.That(status.Lines[^1], Is.EqualTo("Status Text: serving requests"), "the new line comes after the existing ones");
        var json = await Sandbox.RequestAsync("""{"command":"status","service":"db"}""");
        Assert.That(json.GetProperty("data").GetProperty("status_text").GetString(), Is.EqualTo("serving requests"));
        var list = await Sandbox.RequestAsync("""{"command":"list"}""");
        Assert.That(
            list.GetProperty("data").GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "db").GetProperty("status_text").GetString(),
            Is.EqualTo("serving requests"));

        // gitproc start returns once READY=1 arrived (two seconds in), with the service running.
        Assert.That((await Sandbox.ClientAsync(token, "stop", "web")).ExitCode, Is.Zero);
        Assert.That((await Sandbox.ClientAsync(token, "stop", "db")).ExitCode, Is.Zero);
        var clock = Stopwatch.StartNew();
        var start = await Sandbox.ClientAsync(token, "start", "db");
        var took = clock.Elapsed;
        Assert.That(start.ExitCode, Is.Zero, start.ToString);
        Assert.That(start.Stdout, Does.StartWith("Service started: db (PID: "));
        Assert.That(took, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)), "start waited for READY=1");
        Assert.That((await Sandbox.ListAsync())["db"].Status, Is.EqualTo("running"));
    }

    [Test]
    public async Task A_Python_sender_moves_the_main_process_with_MAINPID_and_STOPPING_shows_in_the_sub_state(CancellationToken token)
    {
        await WritePythonSenderAsync(token);
        var sender = SenderCommand(Sandbox);
        Sandbox.WriteUnit("mover", $"""
            [Service]
            Type=notify
            ExecStart={sender} mainpid {Sandbox.SleepSeconds}
            """);
        Sandbox.WriteUnit("stopper", $"""
            [Service]
            Type=notify
            ExecStart={sender} stopping
            """);
        await Sandbox.CommitAsync("mover and stopper", token);
        await Sandbox.StartDaemonAsync(token);
        var pids = await Sandbox.WaitRunningAsync(token, "mover");

        // MAINPID=: status shows the child, and the service keeps running once the process that started it has exited.
        // The sender says MAINPID= right after its fork, so the child may still be on its way into exec.
        var sleeping = () => ProcScan.FindByCommandLine(Sandbox.SleepSeconds).Where(p => CommandLine(p).StartsWith("sleep\0", StringComparison.Ordinal)).ToList();
        Assert.That(await ProcScan.WaitUntilAsync(() => sleeping().Count == 1, TimeSpan.FromSeconds(10)), Is.True, "the sender's child runs sleep");
        var child = sleeping().Single();
        Assert.That(pids["mover"], Is.EqualTo(child));
        Assert.That(await ProcScan.WaitUntilAsync(() => ProcScan.FindByCommandLine("notify_sender.py mainpid").Count == 0, TimeSpan.FromSeconds(10)), Is.True);
        await Task.Delay(500, token);
        var mover = await Sandbox.StatusAsync("mover");
        Assert.That(mover.GetProperty("state").GetString(), Is.EqualTo("running"), Sandbox.DaemonOutput);
        Assert.That(mover.GetProperty("pid").GetInt32(), Is.EqualTo(child));
        Assert.That(mover.GetProperty("status_text").GetString(), Is.EqualTo($"handed over to {child}"));

        // STOPPING=1: the service says it is going down.
        await WaitStatusAsync(Sandbox, "stopper", s => s.GetProperty("sub_state").GetString() == "stopping", "stopper's sub-state becoming stopping", token);

        Assert.That((await Sandbox.StatusAsync("stopper")).GetProperty("status_text").GetString(), Is.EqualTo("shutting down"));

        // Stopping the service stops the process it named.
        Assert.That((await Sandbox.ClientAsync(token, "stop", "mover")).ExitCode, Is.Zero);
        Assert.That(ProcScan.IsAlive(child), Is.False);
    }

    [Test]
    public async Task A_notification_forged_by_another_services_process_is_refused_and_no_READY_within_TimeoutStartSec_fails_the_start(CancellationToken token)
    {
        await WritePythonSenderAsync(token);
        var sender = SenderCommand(Sandbox);

        // forger keeps sending READY=1 to victim's socket; victim itself never does.
        var victimSocket = Path.Combine(Sandbox.Root, "gitproc.notify", "victim.sock");
        Sandbox.WriteUnit("forger", $"""
            [Service]
            ExecStart={sender} forge {victimSocket}
            """);
        await Sandbox.CommitAsync("forger", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "forger");

        Sandbox.WriteUnit("victim", Sandbox.Unit("victim", "Type=notify\nNotifyAccess=all\nTimeoutStartSec=3s"));
        await Sandbox.CommitAsync("victim", token);
        var sync = await Sandbox.ClientAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);

        var status = await Sandbox.StatusAsync("victim");
        Assert.That(status.GetProperty("state").GetString(), Is.EqualTo("failed"), Sandbox.DaemonOutput);
        Assert.That(status.GetProperty("failure_reason").GetString(), Does.Contain("no READY=1 within TimeoutStartSec=3s"));
        Assert.That(status.GetProperty("status_text").ValueKind, Is.EqualTo(JsonValueKind.Null), "the forged STATUS= was not taken");
        Assert.That(Sandbox.DaemonOutput, Does.Contain("Refused a notification to victim from PID"));
        Assert.That(ProcScan.FindByCommandLine("service.sh victim"), Is.Empty,
            "the service that timed out was stopped");

        // An operator's start fails the same way, with the reason.
        var clock = Stopwatch.StartNew();
        var start = await Sandbox.ClientAsync(token, "start", "victim");
        Assert.That(start.ExitCode, Is.EqualTo(1), start.ToString);
        Assert.That(start.Stderr, Does.Contain("no READY=1 within TimeoutStartSec=3s"));
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public async Task A_service_that_stops_pinging_the_watchdog_is_killed_and_restarted_within_about_WatchdogSec(CancellationToken token)
    {
        await WritePythonSenderAsync(token);
        var sender = SenderCommand(Sandbox);
        var hang = Path.Combine(Sandbox.Root, "hang");
        Sandbox.WriteUnit("pinger", $"""
            [Service]
            Type=notify
            WatchdogSec=1s
            Restart=on-watchdog
            ExecStart={sender} watchdog {hang}
            """);
        await Sandbox.CommitAsync("pinger", token);
        await Sandbox.StartDaemonAsync(token);
        var before = (await Sandbox.WaitRunningAsync(token, "pinger"))["pinger"];

        // Pinging every 0.2 s, it outlives several intervals; WATCHDOG_USEC, WATCHDOG_PID and SYSTEMD_EXEC_PID (its own
        // pid) were given.
        await Task.Delay(2500, token);
        var alive = await Sandbox.StatusAsync("pinger");
        Assert.That(alive.GetProperty("pid").GetInt32(), Is.EqualTo(before), Sandbox.DaemonOutput);
        Assert.That(alive.GetProperty("status_text").GetString(), Is.EqualTo("watchdog pid-ok usec=1000000"));

        var restarted = await HangAndAwaitRestartAsync(Sandbox, "pinger", hang, before, token);
        Assert.That(restarted, Is.LessThan(TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(8)), "restarted within about WatchdogSec (plus slack)");
        var status = await Sandbox.StatusAsync("pinger");
        Assert.That(status.GetProperty("restart_count").GetInt32(), Is.EqualTo(1));
        Assert.That(status.GetProperty("last_exit").GetString(), Does.Contain("watchdog"));
        Assert.That(status.GetProperty("last_exit_code").GetInt32(), Is.EqualTo(128 + 6), "killed with SIGABRT");
    }

    [Test]
    public async Task The_dotnet_worker_with_UseSystemd_is_running_once_ready_shows_its_STATUS_and_is_restarted_when_it_stops_pinging(CancellationToken token)
    {
        RequireRoot();
        var worker = WorkerDll;
        var hang = Path.Combine(Sandbox.Root, "worker-hang");

        // The .NET runtime survives the watchdog's SIGABRT here, so it is the SIGKILL that follows after TimeoutStopSec
        // (systemd's TimeoutAbortSec) that ends it: kept short so the restart comes within about WatchdogSec.
        Sandbox.WriteUnit("worker", $"""
            [Service]
            Type=notify
            WatchdogSec=2s
            Restart=on-watchdog
            TimeoutStopSec=2s
            ExecStart={GitProcSandbox.DotnetHost} {worker} --ready-delay 1000 --stop-pinging-file {hang}
            """);
        await Sandbox.CommitAsync("worker", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "worker");

        // start returns once the worker has sent READY=1, which it does a second after it was started.
        Assert.That((await Sandbox.ClientAsync(token, "stop", "worker")).ExitCode, Is.Zero);
        var clock = Stopwatch.StartNew();
        var start = await Sandbox.ClientAsync(token, "start", "worker");
        Assert.That(start.ExitCode, Is.Zero, start.ToString() + Sandbox.DaemonOutput);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
        var status = await Sandbox.StatusAsync("worker");
        Assert.That(status.GetProperty("state").GetString(), Is.EqualTo("running"));
        var pid = status.GetProperty("pid").GetInt32();

        await WaitStatusAsync(
            Sandbox, "worker", s => s.GetProperty("status_text").GetString()?.StartsWith("Working: ", StringComparison.Ordinal) == true, "the worker's STATUS= showing", token);

        var lines = (await Sandbox.ClientAsync(token, "status", "worker")).Lines;
        Assert.That(lines[^1], Does.StartWith("Status Text: Working: "));

        var restarted = await HangAndAwaitRestartAsync(Sandbox, "worker", hang, pid, token);
        Assert.That(restarted, Is.LessThan(TimeSpan.FromSeconds(2 + 2) + TimeSpan.FromSeconds(8)), "restarted within about WatchdogSec (plus TimeoutStopSec and slack)");
        Assert.That((await Sandbox.StatusAsync("worker")).GetProperty("last_exit").GetString(), Does.Contain("watchdog"));
    }

    /// <summary>Makes the service stop pinging; returns how long until it runs again under a new pid.</summary>
    private static async Task<TimeSpan> HangAndAwaitRestartAsync(GitProcSandbox sandbox, string service, string hangFile, int before, CancellationToken token)
    {
        await File.WriteAllTextAsync(hangFile, "", token);
        var clock = Stopwatch.StartNew();
        var list = await sandbox.WaitForListAsync(
            l => l[service] is { Status: "running", Pid: { } pid } && pid != before,
            $"{service} was restarted by the watchdog",
            token);
        Assert.That(ProcScan.IsAlive(before), Is.False, "the hung process was killed");
        Assert.That(list[service].Pid, Is.Not.EqualTo(before));
        return clock.Elapsed;
    }

    /// <summary>Requires root and python3, and puts the Python sender into the sandbox.</summary>
    private async Task WritePythonSenderAsync(CancellationToken token)
    {
        RequireRoot();
        _ = Tools.Require("python3", "python3");
        await File.WriteAllTextAsync(Path.Combine(Sandbox.Root, "notify_sender.py"), Sender, token);
    }

    /// <summary>The command line that runs the Python sender (followed by its mode and arguments).</summary>
    private static string SenderCommand(GitProcSandbox sandbox) => $"{Tools.Require("python3", "python3")} {Path.Combine(sandbox.Root, "notify_sender.py")}";

    /// <summary>Polls <c>status</c> until <paramref name="condition"/> holds; fails after <see cref="GitProcSandbox.Deadline"/>.</summary>
    private static async Task WaitStatusAsync(GitProcSandbox sandbox, string service, Func<JsonElement, bool> condition, string what, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + GitProcSandbox.Deadline;
        while (!condition(await sandbox.StatusAsync(service)))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"{what} never happened:\n{sandbox.DaemonOutput}");
            await Task.Delay(100, token);
        }
    }

    /// <summary>
    /// The time a service wrote with <c>date +%s.%N &gt; FILE</c>. Its shell creates the file before <c>date</c> writes
    /// it, and "running" may be seen in between, so an empty file is waited out.
    /// </summary>
    private static async Task<double> ReadTimeAsync(string path, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string text;
        while ((text = File.Exists(path) ? (await File.ReadAllTextAsync(path, token)).Trim() : "").Length == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, token);
        }

        return double.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary>The sample worker, built before the tests (its path is baked in by the LocateChildPrograms target).</summary>
    private static string WorkerDll
    {
        get
        {
            var path = typeof(NotifyTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .SingleOrDefault(a => a.Key == "NotifyWorker")?.Value;
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                Assert.Fail($"NotifyWorker.dll was not found (baked path: '{path}'); build the test project first.");
            }

            return path!;
        }
    }

    private static void RequireRoot() =>
        Assume.That(Environment.IsPrivilegedProcess, Is.True, "needs root: NotifyAccess= is checked against the service's cgroup");

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            return "";
        }
    }
}
