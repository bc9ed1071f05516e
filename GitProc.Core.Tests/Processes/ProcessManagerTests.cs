using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using GitProc.Processes;
using GitProc.UnitFiles;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests.Processes;

[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class ProcessManagerTests
{
    private const int Timeout = 30_000;

    private readonly List<int> _leaders = [];
    private ProcessManager _manager = null!;
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _manager = new ProcessManager();
        _dir = Directory.CreateTempSubdirectory("gitproc-processes-").FullName;
        _leaders.Clear();
    }

    [TearDown]
    public void TearDown()
    {
        var survivors = _leaders.SelectMany(ProcStat.FindLiveMembers).Distinct().ToList();
        foreach (var pid in survivors)
        {
            _ = Interop.Processes.Kill(pid, 9);
        }

        _manager.Dispose();
        Directory.Delete(_dir, recursive: true);
        Assert.That(survivors, Is.Empty, "processes survived the test");
    }

    [TestCase(0)]
    [TestCase(3)]
    [CancelAfter(Timeout)]
    public async Task Exit_code_is_recorded(int code, CancellationToken token)
    {
        var process = await Start(Unit("exit", Sh($"exit {code}")));

        var exit = await process.Exited.WaitAsync(token);

        Assert.That(exit, Is.EqualTo(new ProcessExit(code, null)));
        Assert.That(exit.IsSuccess, Is.EqualTo(code == 0));
    }

    [TestCase(9)]
    [TestCase(15)]
    [TestCase(11)]
    [TestCase(6)]
    [CancelAfter(Timeout)]
    public async Task Terminating_signal_is_recorded_as_signal(int signal, CancellationToken token)
    {
        var process = await Start(Unit("sig", Sh($"kill -{signal} $$$$; sleep 5")));

        var exit = await process.Exited.WaitAsync(token);

        Assert.That(exit, Is.EqualTo(new ProcessExit(null, signal)));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Exit_137_is_an_exit_code_not_SIGKILL(CancellationToken token)
    {
        var exited = await Start(Unit("e137", Sh("exit 137")));
        var killed = await Start(Unit("k9", "/bin/sleep", "30"));
        _ = Interop.Processes.Kill(killed.Info.Pid, 9);

        Assert.That(await exited.Exited.WaitAsync(token), Is.EqualTo(new ProcessExit(137, null)));
        Assert.That(await killed.Exited.WaitAsync(token), Is.EqualTo(new ProcessExit(null, 9)));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Process_leads_its_own_session_and_group_with_default_signals(CancellationToken token)
    {
        var process = await Start(Unit("session", "/bin/sleep", "30"));

        Assert.That(ProcStat.TryRead(process.Info.Pid, out var stat), Is.True);
        Assert.That(stat.Session, Is.EqualTo(process.Info.Pid));
        Assert.That(stat.ProcessGroup, Is.EqualTo(process.Info.Pid));
        Assert.That(process.Info.StartTicks, Is.EqualTo(stat.StartTicks).And.GreaterThan(0));

        // .NET ignores SIGPIPE and blocks signals on some threads: none of that may reach the service. (glibc's
        // posix_spawn itself leaves its two internal real-time signals, 32 and 33, ignored; only 1-31 are checked.)
        var status = await File.ReadAllLinesAsync($"/proc/{process.Info.Pid}/status", token);
        var ignored = ulong.Parse(status.Single(l => l.StartsWith("SigIgn:", StringComparison.Ordinal))[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.That(ignored & 0x7FFF_FFFF, Is.Zero, "no standard signal is ignored");
        Assert.That(status, Has.Member("SigBlk:\t0000000000000000"));
        await process.StopAsync(15, TimeSpan.FromSeconds(5));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Stop_kills_grandchildren_that_ignore_SIGTERM(CancellationToken token)
    {
        var output = new CollectingLogWriter();
        var process = await Start(
            Unit("tree", Sh("trap '' TERM; sleep 300 & sh -c 'sleep 300 & sleep 300' & (sleep 300 &); echo ready; while :; do sleep 1; done")),
            output);
        await WaitUntil(() => output.Text.Contains("ready", StringComparison.Ordinal), token);
        await WaitUntil(() => ProcStat.FindLiveMembers(process.Info.Pid).Count >= 5, token);
        var timeout = TimeSpan.FromMilliseconds(500);

        var stopwatch = Stopwatch.StartNew();
        var exit = await process.StopAsync(15, timeout).WaitAsync(token);

        Assert.That(stopwatch.Elapsed, Is.GreaterThanOrEqualTo(timeout - TimeSpan.FromMilliseconds(20)));
        Assert.That(exit, Is.EqualTo(new ProcessExit(null, 9)));
        Assert.That(ProcStat.FindLiveMembers(process.Info.Pid), Is.Empty);
        await output.Disposed.WaitAsync(token);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Stop_with_a_custom_signal_that_the_process_handles_ends_cleanly(CancellationToken token)
    {
        var output = new CollectingLogWriter();
        var process = await Start(Unit("int", Sh("trap 'echo got INT; exit 0' INT; echo ready; while :; do sleep 0.1; done")), output);
        await WaitUntil(() => output.Text.Contains("ready", StringComparison.Ordinal), token);

        var exit = await process.StopAsync(2, TimeSpan.FromSeconds(20)).WaitAsync(token);

        Assert.That(exit, Is.EqualTo(new ProcessExit(0, null)));
        await process.OutputCompleted.WaitAsync(token);
        Assert.That(output.Text, Does.Contain("got INT"));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Stop_after_exit_is_safe_and_idempotent(CancellationToken token)
    {
        var process = await Start(Unit("done", Sh("exit 4")));
        await process.Exited.WaitAsync(token);

        var first = await process.StopAsync(15, TimeSpan.FromSeconds(5)).WaitAsync(token);
        var second = await process.StopAsync(9, TimeSpan.Zero).WaitAsync(token);

        Assert.That(first, Is.EqualTo(new ProcessExit(4, null)));
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Arguments_reach_the_program_verbatim_without_a_shell(CancellationToken token)
    {
        string[] arguments = ["a b", "\"quoted\"", "'single'", "$(id)", "`date`", "x;y", "*", "a|b", "> out"];
        var output = new CollectingLogWriter();
        var process = await Start(Unit("argv", ["/usr/bin/printf", "%s\\n", .. arguments]), output);

        await process.Exited.WaitAsync(token);
        await process.OutputCompleted.WaitAsync(token);

        Assert.That(output.Text, Is.EqualTo(string.Join('\n', arguments) + "\n"));
        Assert.That(File.Exists(Path.Join(_dir, "out")), Is.False);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Environment_is_clean_with_unit_assignments_and_files_the_file_winning_as_in_systemd(CancellationToken token)
    {
        var file = Path.Join(_dir, "service.env");
        await File.WriteAllTextAsync(file, "# comment\n; another\n\nFROM_FILE=file\nSHARED=from-file\nQUOTED=\"two words\"\nSINGLE='x y'\n", token);
        var unit = Unit("env", "/usr/bin/env") with
        {
            EnvironmentFiles = [new(file, false), new(Path.Join(_dir, "missing.env"), true)],
            Environment = new Dictionary<string, string> { ["SHARED"] = "from-unit", ["ONLY_UNIT"] = "u" },
        };
        var output = new CollectingLogWriter();
        Environment.SetEnvironmentVariable("GITPROC_TEST_SHOULD_NOT_LEAK", "leak");

        var process = await Start(unit, output);
        await process.Exited.WaitAsync(token);
        await process.OutputCompleted.WaitAsync(token);

        var environment = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(line => line[..line.IndexOf('=', StringComparison.Ordinal)], line => line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        Assert.That(environment["FROM_FILE"], Is.EqualTo("file"));
        Assert.That(environment["SHARED"], Is.EqualTo("from-file"), "systemd.exec(5): the files override Environment=");
        Assert.That(environment["QUOTED"], Is.EqualTo("two words"));
        Assert.That(environment["SINGLE"], Is.EqualTo("x y"));
        Assert.That(environment["ONLY_UNIT"], Is.EqualTo("u"));
        Assert.That(environment["USER"], Is.EqualTo(Environment.UserName));
        Assert.That(environment, Does.ContainKey("PATH").And.ContainKey("HOME").And.ContainKey("LOGNAME").And.ContainKey("SHELL"));
        Assert.That(environment, Does.Not.ContainKey("GITPROC_TEST_SHOULD_NOT_LEAK"));
    }

    [Test]
    public void Missing_required_environment_file_is_an_error_naming_it()
    {
        var missing = Path.Join(_dir, "nope.env");
        var unit = Unit("web", "/bin/true") with { EnvironmentFiles = [new(missing, false)] };
        var output = new CollectingLogWriter();

        var error = Assert.ThrowsAsync<ProcessStartException>(() => _manager.StartAsync(Launch(unit, output)));

        Assert.That(error!.Message, Does.StartWith("Cannot start web: /bin/true: environment file " + missing));
        Assert.That(output.Disposed.IsCompleted, Is.True, "the writer is disposed when the start fails");
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Variables_and_specifiers_are_expanded_in_arguments(CancellationToken token)
    {
        var unit = Unit("web@blue", "/usr/bin/printf", "%s\\n", "$A", "${A}", "pre${B}post", "$$A", "$MISSING", "${MISSING}", "%n", "%N", "%i", "%%", "%x", "end") with
        {
            Environment = new Dictionary<string, string> { ["A"] = "one  two", ["B"] = "x" },
        };
        var output = new CollectingLogWriter();

        var exit = await _manager.RunAsync(Launch(unit, output), TimeSpan.FromSeconds(20), token);

        Assert.That(exit.ExitCode, Is.Zero);
        Assert.That(
            output.Text.Split('\n'),
            Is.EqualTo(new[] { "one", "two", "one  two", "prexpost", "$A", string.Empty, "web@blue.service", "web@blue", "blue", "%", "%x", "end", string.Empty }));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task WorkingDirectory_is_the_current_directory(CancellationToken token)
    {
        var sub = Directory.CreateDirectory(Path.Join(_dir, "work dir")).FullName;
        var withUnitDirectory = new CollectingLogWriter();
        var withDefault = new CollectingLogWriter();

        await _manager.RunAsync(Launch(Unit("pwd", "/bin/pwd") with { WorkingDirectory = sub }, withUnitDirectory), TimeSpan.FromSeconds(20), token);
        await _manager.RunAsync(Launch(Unit("pwd", "/bin/pwd"), withDefault), TimeSpan.FromSeconds(20), token);

        Assert.That(withUnitDirectory.Text, Is.EqualTo(sub + "\n"));
        Assert.That(withDefault.Text, Is.EqualTo(_dir + "\n"));
    }

    [Test]
    public void Missing_working_directory_is_an_error_naming_it()
    {
        var missing = Path.Join(_dir, "gone");

        var error = Assert.ThrowsAsync<ProcessStartException>(() => _manager.StartAsync(Launch(Unit("web", "/bin/pwd") with { WorkingDirectory = missing })));

        Assert.That(error!.Message, Does.Contain($"working directory {missing} does not exist"));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Optional_missing_working_directory_falls_back_to_the_default(CancellationToken token)
    {
        var output = new CollectingLogWriter();

        await _manager.RunAsync(Launch(Unit("pwd", "/bin/pwd") with { WorkingDirectory = "-" + Path.Join(_dir, "gone") }, output), TimeSpan.FromSeconds(20), token);

        Assert.That(output.Text, Is.EqualTo(_dir + "\n"));
    }

    [Test]
    public void Missing_or_unusable_executables_are_clear_errors()
    {
        var plain = Path.Join(_dir, "plain.txt");
        File.WriteAllText(plain, "not a program");

        var missing = Assert.ThrowsAsync<ProcessStartException>(() => _manager.StartAsync(Launch(Unit("web", "/usr/bin/nope"))));
        var notExecutable = Assert.ThrowsAsync<ProcessStartException>(() => _manager.StartAsync(Launch(Unit("web", plain))));
        var notInPath = Assert.ThrowsAsync<ProcessStartException>(() => _manager.StartAsync(Launch(Unit("web", "gitproc-no-such-program"))));

        Assert.That(missing!.Message, Is.EqualTo("Cannot start web: /usr/bin/nope: no such file"));
        Assert.That(missing.Service, Is.EqualTo("web"));
        Assert.That(missing.Executable, Is.EqualTo("/usr/bin/nope"));
        Assert.That(notExecutable!.Message, Does.StartWith($"Cannot start web: {plain}: is not executable"));
        Assert.That(notInPath!.Message, Does.StartWith("Cannot start web: gitproc-no-such-program: no such executable in PATH"));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Bare_program_names_are_found_in_PATH(CancellationToken token)
    {
        var exit = await _manager.RunAsync(Launch(Unit("t", "true")), TimeSpan.FromSeconds(20), token);

        Assert.That(exit.IsSuccess, Is.True);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task User_nobody_runs_with_its_uid_gid_and_home(CancellationToken token)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: switching users");
        }

        var output = new CollectingLogWriter();
        var process = await Start(Unit("nobody", Sh("echo $HOME $USER $LOGNAME; exec sleep 30")) with { User = "nobody", WorkingDirectory = "/" }, output);
        await WaitUntil(() => output.Text.Contains('\n', StringComparison.Ordinal) && Comm(process.Info.Pid) == "sleep", token);

        var status = await File.ReadAllLinesAsync($"/proc/{process.Info.Pid}/status", token);
        Assert.That(status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[1..], Is.All.EqualTo("65534"));
        Assert.That(status.Single(l => l.StartsWith("Gid:", StringComparison.Ordinal)).Split('\t')[1..], Is.All.EqualTo("65534"));
        Assert.That(output.Text, Is.EqualTo("/nonexistent nobody nobody\n"));
        await process.StopAsync(15, TimeSpan.FromSeconds(5)).WaitAsync(token);
    }

    [Test]
    public void Unknown_user_and_unprivileged_switch_are_clear_errors()
    {
        var unknown = Assert.ThrowsAsync<ProcessStartException>(() => _manager.StartAsync(Launch(Unit("web", "/bin/true") with { User = "gitproc-no-such-user" })));
        using var unprivileged = new ProcessManager { IsPrivileged = false };
        var other = Environment.UserName == "nobody" ? "root" : "nobody";
        var refused = Assert.ThrowsAsync<ProcessStartException>(() => unprivileged.StartAsync(Launch(Unit("web", "/bin/true") with { User = other })));

        Assert.That(unknown!.Message, Is.EqualTo("Cannot start web: /bin/true: user gitproc-no-such-user does not exist (User=gitproc-no-such-user)"));
        Assert.That(refused!.Message, Does.StartWith($"Cannot start web: /bin/true: switching to user {other} needs root"));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task The_shim_joins_each_cgroup_file_by_writing_0_before_exec(CancellationToken token)
    {
        var first = Path.Join(_dir, "a.procs");
        var second = Path.Join(_dir, "b.procs");
        File.WriteAllText(first, string.Empty);
        File.WriteAllText(second, string.Empty);
        var output = new CollectingLogWriter();
        var launch = Launch(Unit("cg", "/usr/bin/printf", "%s\\n", "a b", "$(x)"), output) with { CgroupProcsFiles = [first, second] };

        var process = await Start(launch.Unit, launch.Output as CollectingLogWriter, launch.CgroupProcsFiles);
        var exit = await process.Exited.WaitAsync(token);
        await process.OutputCompleted.WaitAsync(token);

        Assert.That(exit.ExitCode, Is.Zero);
        Assert.That(output.Text, Is.EqualTo("a b\n$(x)\n"));
        // "0" is the writer itself for the kernel; a real cgroup's membership is checked in ResourceControllerHostTests.
        Assert.That(File.ReadAllText(first), Is.EqualTo("0\n"));
        Assert.That(File.ReadAllText(second), Is.EqualTo("0\n"));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task A_cgroup_that_cannot_be_joined_fails_with_exit_219(CancellationToken token)
    {
        var launch = Launch(Unit("cg", "/bin/sleep", "30")) with { CgroupProcsFiles = [Path.Join(_dir, "no-dir", "cgroup.procs")] };

        var exit = await _manager.RunAsync(launch, TimeSpan.FromSeconds(20), token);

        Assert.That(exit, Is.EqualTo(new ProcessExit(219, null)));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task User_switch_and_cgroup_join_combine(CancellationToken token)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: switching users");
        }

        var procs = Path.Join(_dir, "cgroup.procs");
        File.WriteAllText(procs, string.Empty);
        var output = new CollectingLogWriter();
        var launch = Launch(Unit("both", "/usr/bin/id", "-u"), output) with { CgroupProcsFiles = [procs] };
        launch = launch with { Unit = launch.Unit with { User = "nobody", WorkingDirectory = "/" } };

        var exit = await _manager.RunAsync(launch, TimeSpan.FromSeconds(20), token);

        Assert.That(exit.ExitCode, Is.Zero);
        Assert.That(output.Text, Is.EqualTo("65534\n"));
        Assert.That(File.ReadAllText(procs), Is.Not.Empty);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Stdout_and_stderr_are_both_captured_and_a_partial_last_line_is_delivered(CancellationToken token)
    {
        var output = new CollectingLogWriter();
        var process = await Start(Unit("out", Sh("echo out; echo err >&2; printf 'no newline'")), output);

        await process.Exited.WaitAsync(token);
        await process.OutputCompleted.WaitAsync(token);

        Assert.That(output.Text, Is.EqualTo("out\nerr\nno newline"));
        Assert.That(output.Disposed.IsCompleted, Is.True);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Large_output_is_copied_completely(CancellationToken token)
    {
        var output = new CollectingLogWriter();
        var process = await Start(Unit("big", Sh("head -c 8000000 /dev/zero")), output);

        await process.Exited.WaitAsync(token);
        await process.OutputCompleted.WaitAsync(token);

        Assert.That(output.Length, Is.EqualTo(8_000_000));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task RunAsync_reports_exit_and_waits_for_output(CancellationToken token)
    {
        var output = new CollectingLogWriter();

        var exit = await _manager.RunAsync(Launch(Unit("pre", Sh("echo prepared; exit 3")), output), TimeSpan.FromSeconds(20), token);

        Assert.That(exit, Is.EqualTo(new ProcessExit(3, null)));
        Assert.That(output.Text, Is.EqualTo("prepared\n"));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task RunAsync_timeout_kills_the_tree_and_says_so(CancellationToken token)
    {
        var pidFile = Path.Join(_dir, "pid");
        var unit = Unit("slow", Sh($"echo $$$$ > '{pidFile}'; trap '' TERM; sleep 300 & sleep 300")) with { TimeoutStop = TimeSpan.FromMilliseconds(200) };

        var exit = await _manager.RunAsync(Launch(unit), TimeSpan.FromMilliseconds(300), token);

        Assert.That(exit.TimedOut, Is.True);
        Assert.That(exit.Signal, Is.EqualTo(9));
        var pid = int.Parse(File.ReadAllText(pidFile), CultureInfo.InvariantCulture);
        _leaders.Add(pid);
        Assert.That(ProcStat.FindLiveMembers(pid), Is.Empty);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task RunAsync_cancellation_kills_the_tree(CancellationToken token)
    {
        var pidFile = Path.Join(_dir, "pid");
        var unit = Unit("cancel", Sh($"echo $$$$ > '{pidFile}'; sleep 300 & sleep 300")) with { TimeoutStop = TimeSpan.FromSeconds(5) };
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(token);
        var run = _manager.RunAsync(Launch(unit), System.Threading.Timeout.InfiniteTimeSpan, cancel.Token);
        await WaitUntil(() => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n'), token);
        var pid = int.Parse(File.ReadAllText(pidFile), CultureInfo.InvariantCulture);
        _leaders.Add(pid);

        await cancel.CancelAsync();

        Assert.That(async () => await run, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(ProcStat.FindLiveMembers(pid), Is.Empty);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task IsSameProcessAlive_tells_dead_and_reused_pids_apart(CancellationToken token)
    {
        var alive = await Start(Unit("alive", "/bin/sleep", "30"));
        var dead = await Start(Unit("dead", "/bin/true"));
        await dead.Exited.WaitAsync(token);

        Assert.That(_manager.IsSameProcessAlive(alive.Info.Pid, alive.Info.StartTicks), Is.True);
        Assert.That(_manager.IsSameProcessAlive(alive.Info.Pid, alive.Info.StartTicks + 1), Is.False);
        Assert.That(_manager.IsSameProcessAlive(dead.Info.Pid, dead.Info.StartTicks), Is.False);
        await alive.StopAsync(15, TimeSpan.FromSeconds(5)).WaitAsync(token);
        Assert.That(_manager.IsSameProcessAlive(alive.Info.Pid, alive.Info.StartTicks), Is.False);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task StopRecordedAsync_stops_a_previous_daemons_session(CancellationToken token)
    {
        // A previous daemon's service: its own session, with a grandchild, not our child. Started through a shell that
        // exits at once, so .NET's Process does not track it: reaping a child Process tracks would make its SIGCHLD
        // handler fail with ECHILD and take the test host down.
        using var starter = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "setsid /bin/sh -c \"trap '' TERM; sleep 300 & exec sleep 300\" >/dev/null 2>&1 & echo $!"])
        {
            RedirectStandardOutput = true,
        })!;
        var pid = int.Parse((await starter.StandardOutput.ReadToEndAsync(token)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await starter.WaitForExitAsync(token);
        _leaders.Add(pid);
        await WaitUntil(() => ProcStat.TryRead(pid, out var s) && s.Session == pid && Comm(pid) == "sleep" && ProcStat.FindLiveMembers(pid).Count == 2, token);
        Assert.That(ProcStat.TryRead(pid, out var stat), Is.True);

        await _manager.StopRecordedAsync(pid, stat.StartTicks + 1, 15, TimeSpan.FromSeconds(5), token);
        Assert.That(ProcStat.FindLiveMembers(pid), Has.Count.EqualTo(2), "a different start time means a different process: untouched");

        await _manager.StopRecordedAsync(pid, stat.StartTicks, 15, TimeSpan.FromMilliseconds(300), token);

        Assert.That(ProcStat.FindLiveMembers(pid), Is.Empty);
        Assert.That(_manager.IsSameProcessAlive(pid, stat.StartTicks), Is.False);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Disposing_a_running_process_stops_its_tree(CancellationToken token)
    {
        var process = await Start(Unit("disposed", Sh("sleep 300 & sleep 300")) with { TimeoutStop = TimeSpan.FromSeconds(5) });
        await WaitUntil(() => ProcStat.FindLiveMembers(process.Info.Pid).Count == 3, token);

        await process.DisposeAsync();

        Assert.That(process.Exited.IsCompleted, Is.True);
        Assert.That(ProcStat.FindLiveMembers(process.Info.Pid), Is.Empty);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Sanity_measurement_of_start_and_exit_latency(CancellationToken token)
    {
        const int Rounds = 50;
        var starts = new List<double>(Rounds);
        var exits = new List<double>(Rounds);
        var unit = Unit("bench", "/bin/sleep", "30");
        var launch = Launch(unit);
        for (var i = 0; i < Rounds; i++)
        {
            var begin = Stopwatch.GetTimestamp();
            var process = await _manager.StartAsync(launch, token);
            starts.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
            _leaders.Add(process.Info.Pid);

            begin = Stopwatch.GetTimestamp();
            _ = Interop.Processes.Kill(process.Info.Pid, 9);
            var exit = await process.Exited.WaitAsync(token);
            exits.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
            Assert.That(exit.Signal, Is.EqualTo(9));
        }

        double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        await TestContext.Out.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"start-to-exec median {Median(starts):F3} ms (max {starts.Max():F3}); kill-to-exit-observed median {Median(exits):F3} ms (max {exits.Max():F3})"));
        Assert.That(Median(starts), Is.LessThan(1000));
        Assert.That(Median(exits), Is.LessThan(1000));
    }

    [Test]
    public void AddGitProc_registers_the_process_manager()
    {
        using var provider = new ServiceCollection().AddGitProc().AddGitProc().BuildServiceProvider();

        Assert.That(provider.GetRequiredService<IProcessManager>(), Is.InstanceOf<ProcessManager>());
    }

    private static string[] Sh(string script) => ["/bin/sh", "-c", script];

    private static UnitFile Unit(string name, params string[] argv) => new()
    {
        Name = name,
        FileName = name + ".service",
        ExecStartCommands = [new UnitCommand(string.Join(' ', argv), argv, false)],
    };

    private static string? Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task WaitUntil(Func<bool> condition, CancellationToken token)
    {
        while (!condition())
        {
            await Task.Delay(10, token);
        }
    }

    private ProcessLaunch Launch(UnitFile unit, CollectingLogWriter? output = null) =>
        new(unit, unit.ExecStartCommands[0]) { Output = output, DefaultWorkingDirectory = _dir };

    private async Task<IServiceProcess> Start(UnitFile unit, CollectingLogWriter? output = null, IReadOnlyList<string>? cgroupProcsFiles = null)
    {
        var process = await _manager.StartAsync(Launch(unit, output) with { CgroupProcsFiles = cgroupProcsFiles ?? [] });
        _leaders.Add(process.Info.Pid);
        return process;
    }
}
