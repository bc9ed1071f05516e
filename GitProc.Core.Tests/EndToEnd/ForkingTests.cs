using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>Type=forking</c> (CONTRACT §11) against the real daemon: Debian's nginx in its default daemon mode with its PID
/// file, and shell double forks whose main process is guessed from the cgroup. Needs root (the cgroup is how the daemon
/// is found and what a stop empties).
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(180_000)]
public sealed class ForkingTests : SandboxFixture
{
    [Test]
    public async Task Nginx_runs_with_its_PID_file_serves_restarts_with_a_new_master_is_restarted_after_SIGKILL_and_stops_completely(CancellationToken token)
    {
        RequireRoot();
        var nginx = Tools.Require("nginx", "nginx-light");
        var prefix = Path.Combine(Sandbox.Root, "nginx");
        var pidFile = Path.Combine(prefix, "nginx.pid");
        var port = FreePort();
        WriteNginxConfig(prefix, port);
        Sandbox.WriteUnit("web", $"""
            [Service]
            Type=forking
            PIDFile={pidFile}
            ExecStart={nginx} -p {prefix} -c {prefix}/nginx.conf -e {prefix}/error.log
            Restart=on-failure
            RestartSec=200ms
            TimeoutStopSec=5
            """);
        await Sandbox.CommitAsync("nginx", token);
        await Sandbox.StartDaemonAsync(token);

        var master = (await Sandbox.WaitRunningAsync(token, "web"))["web"];
        Assert.That(master, Is.EqualTo(ReadPid(pidFile)), "status shows the pid nginx wrote to its PID file");
        Assert.That(CommandLine(master), Does.StartWith("nginx: master process"));
        var status = await Sandbox.ClientAsync(token, "status", "web");
        Assert.That(status.Lines, Does.Contain($"PID: {master}"), status.ToString);
        Assert.That(await GetAsync(port, token), Is.EqualTo("hello from nginx\n"));

        // restart: a new master, the old one and its workers gone.
        var workers = Children(master);
        Assert.That(workers, Is.Not.Empty, "nginx runs worker processes");
        var restart = await Sandbox.ClientAsync(token, "restart", "web");
        Assert.That(restart.ExitCode, Is.Zero, restart.ToString);
        var second = (await Sandbox.WaitRunningAsync(token, "web"))["web"];
        Assert.That(second, Is.Not.EqualTo(master));
        Assert.That(restart.Stdout, Is.EqualTo($"Service restarted: web (PID: {second})\n"));
        Assert.That(ReadPid(pidFile), Is.EqualTo(second));
        Assert.That(workers.Append(master).Where(ProcScan.IsAlive), Is.Empty, "the old master and its workers are gone");
        Assert.That(await GetAsync(port, token), Is.EqualTo("hello from nginx\n"));

        // The master killed by SIGKILL: a crash, which Restart=on-failure restarts (its workers do not linger beside it).
        workers = Children(second);
        _ = Interop.Processes.Kill(second, 9);
        var list = await Sandbox.WaitForListAsync(
            l => l["web"] is { Status: "running", Pid: { } pid } && pid != second, "nginx was restarted after SIGKILL", token);
        var third = list["web"].Pid!.Value;
        Assert.That(ReadPid(pidFile), Is.EqualTo(third));
        Assert.That(workers.Where(ProcScan.IsAlive), Is.Empty, "the killed master's workers were stopped");
        var after = await Sandbox.StatusAsync("web");
        Assert.That(after.GetProperty("restart_count").GetInt32(), Is.EqualTo(1));
        Assert.That(after.GetProperty("last_exit").GetString(), Does.Contain("signal 9").Or.Contain("status unknown"));
        Assert.That(await GetAsync(port, token), Is.EqualTo("hello from nginx\n"));

        // stop: no nginx process of this prefix is left.
        workers = Children(third);
        var stop = await Sandbox.ClientAsync(token, "stop", "web");
        Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
        Assert.That(ProcScan.FindByCommandLine(prefix), Is.Empty, "no nginx master of this prefix survives the stop");
        Assert.That(workers.Append(third).Where(ProcScan.IsAlive), Is.Empty, "no nginx process survives the stop");
        Assert.That((await Sandbox.ListAsync())["web"].Status, Is.EqualTo("stopped"));
    }

    [Test]
    public async Task A_double_fork_without_PIDFile_is_found_through_the_cgroup_followed_and_taken_over_by_a_restarted_daemon(CancellationToken token)
    {
        RequireRoot();

        // Two daemons forked off, the first one oldest: GitProc picks it and says so.
        Sandbox.WriteUnit("forker", $"""
            [Service]
            Type=forking
            ExecStart=/bin/sh -c '(exec sleep {Sandbox.SleepSeconds} &) ; sleep 0.1 ; (exec sleep {Sandbox.SleepSeconds}1 &) ; exit 0'
            """);
        await Sandbox.CommitAsync("forker", token);
        await Sandbox.StartDaemonAsync(token);

        var main = (await Sandbox.WaitRunningAsync(token, "forker"))["forker"];
        Assert.That(CommandLine(main), Is.EqualTo($"sleep {Sandbox.SleepSeconds}"), "the oldest process whose parent left is the main process");
        Assert.That(Sandbox.DaemonOutput, Does.Contain($"forker: the daemon's main process is PID {main} (guessed: of the 2 processes in the service's cgroup, the oldest"));

        // A daemon that dies is replaced by one that takes the service over by its main PID.
        await Sandbox.KillDaemonAsync();
        await Sandbox.StartDaemonAsync(token);
        var adopted = (await Sandbox.WaitRunningAsync(token, "forker"))["forker"];
        Assert.That(adopted, Is.EqualTo(main), "taken over, not started again");
        Assert.That(ProcScan.FindByCommandLine(Sandbox.SleepSeconds), Has.Count.EqualTo(2), "nothing was started twice");

        // And so does the daemon upgraded in place (it re-executes itself).
        var tookOver = TookOver();
        var reexec = await Sandbox.RequestAsync("""{"command":"reexec"}""");
        Assert.That(reexec.GetProperty("status").GetString(), Is.EqualTo("success"), reexec.ToString);
        Assert.That(await ProcScan.WaitUntilAsync(() => TookOver() > tookOver, GitProcSandbox.Deadline), Is.True, Sandbox.DaemonOutput);
        Assert.That((await Sandbox.WaitRunningAsync(token, "forker"))["forker"], Is.EqualTo(main), "taken over again after the re-exec");

        // The main process ending is the service's end (SIGTERM is a clean one, so Restart=no leaves it stopped), and
        // what else it left in the cgroup goes with it.
        _ = Interop.Processes.Kill(main, 15);
        await Sandbox.WaitForListAsync(l => l["forker"] is { Status: "stopped", Pid: null }, "forker ended with its main process", token);
        Assert.That(await ProcScan.WaitUntilAsync(() => ProcScan.FindByCommandLine(Sandbox.SleepSeconds).Count == 0, TimeSpan.FromSeconds(10)), Is.True);

        // Started again: the only process left is the main one.
        Sandbox.WriteUnit("forker", $"""
            [Service]
            Type=forking
            ExecStart=/bin/sh -c '(exec sleep {Sandbox.SleepSeconds} &) ; exit 0'
            """);
        await Sandbox.CommitAsync("one daemon", token);
        var only = (await Sandbox.WaitRunningAsync(token, "forker"))["forker"];
        Assert.That(CommandLine(only), Is.EqualTo($"sleep {Sandbox.SleepSeconds}"));
        Assert.That(Sandbox.DaemonOutput, Does.Contain($"forker: the daemon's main process is PID {only} (guessed: the only process left in the service's cgroup)"));
        var stop = await Sandbox.ClientAsync(token, "stop", "forker");
        Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
        Assert.That(ProcScan.IsAlive(only), Is.False);
    }

    [Test]
    public async Task With_GuessMainPID_no_the_service_runs_without_a_main_PID_until_its_cgroup_is_empty(CancellationToken token)
    {
        RequireRoot();
        Sandbox.WriteUnit("pool", $"""
            [Service]
            Type=forking
            GuessMainPID=no
            ExecStart=/bin/sh -c '(exec sleep {Sandbox.SleepSeconds} &) ; (exec sleep {Sandbox.SleepSeconds}1 &) ; exit 0'
            """);
        await Sandbox.CommitAsync("pool", token);
        await Sandbox.StartDaemonAsync(token);

        await Sandbox.WaitForListAsync(l => l["pool"] is { Status: "running", Pid: null }, "pool runs without a main PID", token);
        var sleepers = ProcScan.FindByCommandLine(Sandbox.SleepSeconds);
        Assert.That(sleepers, Has.Count.EqualTo(2));
        Assert.That((await Sandbox.ClientAsync(token, "status", "pool")).Lines.Where(l => l.StartsWith("PID:", StringComparison.Ordinal)), Is.Empty);

        _ = Interop.Processes.Kill(sleepers[0], 15);
        await Task.Delay(TimeSpan.FromSeconds(1.5), token);
        Assert.That((await Sandbox.ListAsync())["pool"].Status, Is.EqualTo("running"), "one process is left in the cgroup");

        _ = Interop.Processes.Kill(sleepers[1], 15);
        await Sandbox.WaitForListAsync(l => l["pool"].Status == "stopped", "pool ended with its last process", token);
    }

    [Test]
    public async Task A_start_command_that_fails_a_PID_file_naming_a_stranger_and_a_start_that_never_returns_fail_the_start_and_leave_nothing(CancellationToken token)
    {
        RequireRoot();
        var pidFile = Path.Combine(Sandbox.Root, "stranger.pid");

        // The stranger: a process outside the service (this test's own), which GitProc must never take for the daemon.
        Sandbox.WriteUnit("exits1", $"""
            [Service]
            Type=forking
            ExecStart=/bin/sh -c '(exec sleep {Sandbox.SleepSeconds} &) ; exit 1'
            """);
        Sandbox.WriteUnit("stranger", $"""
            [Service]
            Type=forking
            PIDFile={pidFile}
            ExecStart=/bin/sh -c '(exec sleep {Sandbox.SleepSeconds} &) ; echo {Environment.ProcessId} > {pidFile} ; exit 0'
            """);
        Sandbox.WriteUnit("hangs", $"""
            [Service]
            Type=forking
            TimeoutStartSec=2
            ExecStart=/bin/sh -c 'exec sleep {Sandbox.SleepSeconds}'
            """);
        await Sandbox.CommitAsync("three bad starts", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitForListAsync(l => l.Values.All(s => s.Status == "failed"), "all three failed", token);

        Assert.That(
            (await Sandbox.StatusAsync("exits1")).GetProperty("failure_reason").GetString(),
            Is.EqualTo("the start command exited with code 1 (Type=forking needs it to exit with code 0 once the daemon runs)"));
        Assert.That(
            (await Sandbox.StatusAsync("stranger")).GetProperty("failure_reason").GetString(),
            Is.EqualTo($"the PID file {pidFile} (PIDFile=) names PID {Environment.ProcessId}, which is not a process of the service (it is not in the service's cgroup); the start failed"));
        Assert.That(
            (await Sandbox.StatusAsync("hangs")).GetProperty("failure_reason").GetString(),
            Does.StartWith("the start command did not exit within TimeoutStartSec=2s"));
        Assert.That(ProcScan.FindByCommandLine(Sandbox.SleepSeconds), Is.Empty, "every failed start's processes were stopped");

        // An operator's start says why too, and exits 1.
        var start = await Sandbox.ClientAsync(token, "start", "exits1");
        Assert.That(start.ExitCode, Is.EqualTo(1), start.ToString);
        Assert.That(start.Stderr, Does.Contain("the start command exited with code 1"));
    }

    [Test]
    public async Task Without_cgroups_a_forking_unit_needs_a_PID_file_and_runs_with_one(CancellationToken token)
    {
        RequireRoot();
        await Sandbox.WriteConfigAsync("\"ResourceControl\": { \"Enabled\": false }", token);
        var pidFile = Path.Combine(Sandbox.Root, "daemon.pid");
        Sandbox.WriteUnit("guessed", $"""
            [Service]
            Type=forking
            ExecStart=/bin/sh -c '(exec sleep {Sandbox.SleepSeconds} &) ; exit 0'
            """);

        // A daemon that stays in its parent's process group (no setsid): a stop still reaches it.
        Sandbox.WriteUnit("named", $"""
            [Service]
            Type=forking
            PIDFile={pidFile}
            ExecStart=/bin/sh -c 'sleep {Sandbox.SleepSeconds}2 & echo $! > {pidFile} ; exit 0'
            """);
        await Sandbox.CommitAsync("forking without cgroups", token);
        await Sandbox.StartDaemonAsync(token);

        var list = await Sandbox.WaitForListAsync(l => l["guessed"].Status == "failed" && l["named"].Status == "running", "guessed failed and named runs", token);
        Assert.That(
            (await Sandbox.StatusAsync("guessed")).GetProperty("failure_reason").GetString(),
            Does.StartWith("Type=forking without PIDFile= finds the daemon's main process through the service's cgroup, and guessed has none").And.EndWith("set PIDFile= to the file the daemon writes its PID to"));
        Assert.That(ProcScan.FindByCommandLine(Sandbox.SleepSeconds).Where(p => CommandLine(p) == $"sleep {Sandbox.SleepSeconds}"), Is.Empty, "nothing of guessed was started");
        var named = list["named"].Pid!.Value;
        Assert.That(named, Is.EqualTo(ReadPid(pidFile)));

        var stop = await Sandbox.ClientAsync(token, "stop", "named");
        Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
        Assert.That(ProcScan.IsAlive(named), Is.False, "the daemon was stopped although it leads no process group");
    }

    private int TookOver() =>
        Sandbox.DaemonOutput.Split('\n').Count(line => line.Contains("Took over forker", StringComparison.Ordinal));

    private static void WriteNginxConfig(string prefix, int port)
    {
        Directory.CreateDirectory(prefix);
        File.WriteAllText(Path.Combine(prefix, "index.html"), "hello from nginx\n");
        File.WriteAllText(Path.Combine(prefix, "nginx.conf"), $$"""
            user root;
            worker_processes 2;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path {{prefix}}/body;
                proxy_temp_path {{prefix}}/proxy;
                fastcgi_temp_path {{prefix}}/fastcgi;
                uwsgi_temp_path {{prefix}}/uwsgi;
                scgi_temp_path {{prefix}}/scgi;
                server {
                    listen 127.0.0.1:{{port}};
                    root {{prefix}};
                }
            }
            """);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> GetAsync(int port, CancellationToken token)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/index.html"), token);
    }

    private static int ReadPid(string path) => int.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);

    private static string CommandLine(int pid) => File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();

    /// <summary>The live children of <paramref name="parent"/> (nginx's workers).</summary>
    private static List<int> Children(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent && fields[0] != "Z")
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }

        return children;
    }

    private static void RequireRoot() =>
        Assume.That(Environment.IsPrivilegedProcess, Is.True, "needs root: a forking service's daemon is found and stopped through its cgroup");
}
