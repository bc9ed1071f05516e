using System.Globalization;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The real daemon and CLI as processes, one daemon shared by tests that only read its state, or change only a
/// service no other test looks at (<c>toggle</c>). Output formats and exit codes are CONTRACT §6.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public partial class SharedDaemonTests
{
    private const string TimeStamp = @"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}";

    private GitProcSandbox _sandbox = null!;
    private IReadOnlyDictionary<string, int> _pids = null!;

    [OneTimeSetUp]
    public async Task StartDaemon()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var token = timeout.Token;
        _sandbox = await GitProcSandbox.CreateAsync(token);
        _sandbox.WriteUnit("web", _sandbox.Unit("web"));
        _sandbox.WriteUnit("worker", _sandbox.Unit("worker"));
        _sandbox.WriteUnit("toggle", _sandbox.Unit("toggle"));
        _sandbox.WriteUnit("crash", _sandbox.Unit("crash", mode: "exit 3"));
        await _sandbox.CommitAsync("four services", token);
        await _sandbox.StartDaemonAsync(token);
        _pids = await _sandbox.WaitRunningAsync(token, "web", "worker");
        await _sandbox.WaitForListAsync(l => l.TryGetValue("crash", out var c) && c.Status == "failed", "crash failed", token);
    }

    [OneTimeTearDown]
    public async Task StopDaemon()
    {
        if (_sandbox is not null)
        {
            await _sandbox.DisposeAsync();
        }
    }

    /// <summary>The services no test changes still run as the same processes: nothing a client did disturbed them.</summary>
    private async Task AssertUndisturbedAsync()
    {
        var list = await _sandbox.ListAsync();
        Assert.Multiple(() =>
        {
            foreach (var (name, pid) in _pids)
            {
                Assert.That(list[name].Status, Is.EqualTo("running"), name);
                Assert.That(list[name].Pid, Is.EqualTo(pid), name);
                Assert.That(ProcScan.IsAlive(pid), Is.True, $"{name} (pid {pid}) is alive");
            }
        });
    }

    [Test]
    public async Task List_prints_a_header_then_one_line_per_service_in_the_contract_format(CancellationToken token)
    {
        var result = await _sandbox.ClientAsync(token, "list");

        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        Assert.That(result.Stderr, Is.Empty);
        var lines = result.Lines;
        Assert.That(lines[0], Is.EqualTo("Available services:"));
        Assert.That(lines.Skip(1), Is.All.Match(@"^  [A-Za-z0-9:_.@-]+ \((running, PID: \d+|stopped|failed, exit code: -?\d+)\)$"));
        Assert.That(lines, Does.Contain($"  web (running, PID: {_pids["web"]})"));
        Assert.That(lines, Does.Contain($"  worker (running, PID: {_pids["worker"]})"));
        Assert.That(lines, Does.Contain("  crash (failed, exit code: 3)"));
        Assert.That(lines.Skip(1).Select(l => l.Trim().Split(' ')[0]), Is.SupersetOf(new[] { "web", "worker", "crash", "toggle" }));
        Assert.That(lines, Has.Length.EqualTo(5));
    }

    [Test]
    public async Task Status_of_a_running_service_prints_the_contract_lines_in_order(CancellationToken token)
    {
        var result = await _sandbox.ClientAsync(token, "status", "web");

        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        Assert.That(result.Stderr, Is.Empty);
        var lines = result.Lines;
        Assert.That(lines, Has.Length.GreaterThanOrEqualTo(5), result.ToString);
        Assert.That(lines[0], Is.EqualTo("Service: web"));
        Assert.That(lines[1], Is.EqualTo("Status: running"));
        Assert.That(lines[2], Is.EqualTo($"PID: {_pids["web"]}"));
        Assert.That(lines[3], Does.Match($"^Started: {TimeStamp}$"));
        Assert.That(lines[4], Is.EqualTo("Restarts: 0"));
        Assert.That(lines.Where(l => l.StartsWith("Last Exit Code:", StringComparison.Ordinal)), Is.Empty);

        // Started is local time, within the last few minutes (this fixture's lifetime).
        var started = DateTime.ParseExact(lines[3]["Started: ".Length..], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.That(started, Is.EqualTo(DateTime.Now).Within(TimeSpan.FromMinutes(5)));
    }

    [Test]
    public async Task Status_of_a_failed_service_shows_no_pid_and_its_last_exit_code(CancellationToken token)
    {
        var result = await _sandbox.ClientAsync(token, "status", "crash");

        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        var lines = result.Lines;
        Assert.That(lines[0], Is.EqualTo("Service: crash"));
        Assert.That(lines[1], Is.EqualTo("Status: failed"));
        Assert.That(lines, Has.None.Match("^PID:"));
        Assert.That(lines, Has.Exactly(1).Match($"^Started: {TimeStamp}$"));
        Assert.That(lines, Has.Exactly(1).Match(@"^Restarts: \d+$"));
        Assert.That(lines, Does.Contain("Last Exit Code: 3"));
    }

    [Test]
    public async Task Status_json_over_the_socket_has_the_contract_keys(CancellationToken token)
    {
        var response = await _sandbox.RequestAsync("""{"command":"status","service":"web"}""");

        Assert.That(response.GetProperty("status").GetString(), Is.EqualTo("success"), response.ToString);
        var data = response.GetProperty("data");
        Assert.That(data.GetProperty("service").GetString(), Is.EqualTo("web"));
        Assert.That(data.GetProperty("state").GetString(), Is.EqualTo("running"));
        Assert.That(data.GetProperty("pid").GetInt32(), Is.EqualTo(_pids["web"]));
        Assert.That(DateTimeOffset.TryParse(data.GetProperty("start_time").GetString(), CultureInfo.InvariantCulture, out _), Is.True, data.ToString);
        Assert.That(data.GetProperty("restart_count").GetInt32(), Is.Zero);
        Assert.That(data.TryGetProperty("last_exit_code", out _), Is.True, data.ToString);
    }

    [TestCase("status")]
    [TestCase("start")]
    [TestCase("stop")]
    [TestCase("restart")]
    [TestCase("logs")]
    public async Task A_command_on_an_unknown_service_exits_1_with_one_line_naming_it(string command, CancellationToken token)
    {
        var result = await _sandbox.ClientAsync(token, command, "nosuchservice");

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString);
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1), result.ToString);
        Assert.That(result.Stderr, Does.Contain("nosuchservice"));
    }

    [TestCase("status", "../etc/passwd")]
    [TestCase("start", "has space")]
    [TestCase("stop", ".hidden")]
    public async Task A_command_on_an_invalid_service_name_exits_1_with_one_line(string command, string name, CancellationToken token)
    {
        var result = await _sandbox.ClientAsync(token, command, name);

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString);
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1), result.ToString);
        await AssertUndisturbedAsync();
    }

    [TestCase("", TestName = "No command at all")]
    [TestCase("frobnicate", TestName = "An unknown command")]
    [TestCase("status", TestName = "status without a name")]
    [TestCase("start web worker", TestName = "start with two names")]
    [TestCase("logs web --lines many", TestName = "logs --lines that is not a number")]
    [TestCase("logs web -n -1", TestName = "logs -n that is negative")]
    [TestCase("list --bogus", TestName = "An unknown option")]
    [TestCase("rollback", TestName = "rollback without a commit")]
    public async Task A_usage_error_exits_2_with_one_line_on_stderr_and_nothing_on_stdout(string commandLine, CancellationToken token)
    {
        var result = await _sandbox.ClientAsync(token, commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString);
        Assert.That(result.Stdout, Is.Empty, result.ToString);
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1), result.ToString);
    }

    [Test]
    public async Task Sync_with_nothing_new_prints_the_two_contract_lines(CancellationToken token)
    {
        var result = await _sandbox.ClientAsync(token, "sync");

        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        Assert.That(result.Stderr, Is.Empty);
        Assert.That(result.Lines, Is.EqualTo(new[] { "Synced with Git repository", "Reloaded 0 services" }));
        await AssertUndisturbedAsync();
    }

    [Test]
    public async Task Logs_prints_the_stored_lines_with_their_timestamps(CancellationToken token)
    {
        var deadline = DateTime.UtcNow + GitProcSandbox.Deadline;
        CliResult result;
        do
        {
            result = await _sandbox.ClientAsync(token, "logs", "crash");
        }
        while (!result.Stdout.Contains("exiting with 3", StringComparison.Ordinal) && DateTime.UtcNow < deadline);

        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        Assert.That(result.Lines, Is.All.Match($@"^\[{TimeStamp}\] "));
        Assert.That(result.Lines, Has.Some.Match($@"^\[{TimeStamp}\] hello from crash$"));
        Assert.That(result.Lines, Has.Some.Match($@"^\[{TimeStamp}\] exiting with 3$"));

        var last = await _sandbox.ClientAsync(token, "logs", "crash", "-n", "1");
        Assert.That(last.ExitCode, Is.Zero, last.ToString);
        Assert.That(last.Lines, Has.Length.EqualTo(1).And.All.Match($@"^\[{TimeStamp}\] exiting with 3$"), last.ToString);
    }

    [Test]
    public async Task Start_stop_and_restart_print_the_contract_lines_and_a_repeat_exits_1(CancellationToken token)
    {
        var pids = await _sandbox.WaitRunningAsync(token, "toggle");

        var stop = await _sandbox.ClientAsync(token, "stop", "toggle");
        Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
        Assert.That(stop.Stdout, Is.EqualTo("Service stopped: toggle\n"));
        Assert.That(ProcScan.IsAlive(pids["toggle"]), Is.False, "the stopped process is gone when stop returns");

        var again = await _sandbox.ClientAsync(token, "stop", "toggle");
        Assert.That(again.ExitCode, Is.EqualTo(1), again.ToString);
        Assert.That(again.Stdout, Is.Empty);
        Assert.That(again.ErrorLines, Has.Length.EqualTo(1).And.All.Contain("toggle"));

        var list = await _sandbox.ClientAsync(token, "list");
        Assert.That(list.Lines, Does.Contain("  toggle (stopped)"), list.ToString);
        var status = await _sandbox.ClientAsync(token, "status", "toggle");
        Assert.That(status.Lines.Take(2), Is.EqualTo(new[] { "Service: toggle", "Status: stopped" }), status.ToString);
        Assert.That(status.Lines, Has.None.Match("^PID:"));

        var start = await _sandbox.ClientAsync(token, "start", "toggle");
        Assert.That(start.ExitCode, Is.Zero, start.ToString);
        var started = StartedRegex().Match(start.Stdout);
        Assert.That(started.Success, Is.True, start.ToString);
        var startedPid = int.Parse(started.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.That(ProcScan.IsAlive(startedPid), Is.True);

        var startAgain = await _sandbox.ClientAsync(token, "start", "toggle");
        Assert.That(startAgain.ExitCode, Is.EqualTo(1), startAgain.ToString);
        Assert.That(startAgain.Stdout, Is.Empty);
        Assert.That(startAgain.ErrorLines, Has.Length.EqualTo(1).And.All.Contain("toggle"));

        var restart = await _sandbox.ClientAsync(token, "restart", "toggle");
        Assert.That(restart.ExitCode, Is.Zero, restart.ToString);
        var restarted = RestartedRegex().Match(restart.Stdout);
        Assert.That(restarted.Success, Is.True, restart.ToString);
        var restartedPid = int.Parse(restarted.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.That(restartedPid, Is.Not.EqualTo(startedPid));
        Assert.That(ProcScan.IsAlive(startedPid), Is.False, "the old process is gone after restart");
        Assert.That((await _sandbox.ListAsync())["toggle"].Pid, Is.EqualTo(restartedPid));
        await AssertUndisturbedAsync();
    }

    [GeneratedRegex(@"^Service started: toggle \(PID: (\d+)\)\n$")]
    private static partial Regex StartedRegex();

    [GeneratedRegex(@"^Service restarted: toggle \(PID: (\d+)\)\n$")]
    private static partial Regex RestartedRegex();

    [Test]
    public void The_socket_file_is_private_to_its_owner()
    {
        Assert.That(File.GetUnixFileMode(_sandbox.Socket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public async Task The_socket_can_come_from_GITPROC_SOCKET(CancellationToken token)
    {
        var result = await _sandbox.CliAsync(["list"], new Dictionary<string, string> { ["GITPROC_SOCKET"] = _sandbox.Socket }, token);

        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        Assert.That(result.Lines[0], Is.EqualTo("Available services:"));
    }

    [Test]
    public async Task An_unreachable_daemon_exits_1_with_one_line_naming_the_socket(CancellationToken token)
    {
        var missing = Path.Combine(_sandbox.Root, "nobody-here.sock");
        var byOption = await _sandbox.CliAsync(["--socket", missing, "list"], cancellationToken: token);
        var byVariable = await _sandbox.CliAsync(["status", "web"], new Dictionary<string, string> { ["GITPROC_SOCKET"] = missing }, token);

        foreach (var result in new[] { byOption, byVariable })
        {
            Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString);
            Assert.That(result.Stdout, Is.Empty);
            Assert.That(result.ErrorLines, Has.Length.EqualTo(1), result.ToString);
            Assert.That(result.Stderr, Does.Contain(missing));
        }
    }

    [Test]
    public async Task A_second_daemon_on_the_same_socket_exits_1_and_says_so_and_the_first_keeps_serving(CancellationToken token)
    {
        var stateBefore = await File.ReadAllBytesAsync(_sandbox.State, token);
        var second = await _sandbox.CliAsync(_sandbox.DaemonArguments, cancellationToken: token);

        // Same state too, and the state's lock is taken before the socket is claimed: that is what it hits first.
        AssertRefusedInOneLine(second, $"Another gitproc daemon (PID {_sandbox.DaemonPid}) owns the state {_sandbox.State} (lock {_sandbox.State}.lock)");
        Assert.That(File.Exists(_sandbox.Socket), Is.True, "the first daemon's socket is still there");
        Assert.That(await File.ReadAllBytesAsync(_sandbox.State, token), Is.EqualTo(stateBefore), "the second daemon did not touch the state");
        await AssertUndisturbedAsync();
        var list = await _sandbox.ClientAsync(token, "list");
        Assert.That(list.ExitCode, Is.Zero, list.ToString);
    }

    [Test]
    public async Task Ten_concurrent_cli_processes_all_get_their_answer(CancellationToken token)
    {
        var runs = Enumerable.Range(0, 10)
            .Select(i => i % 2 == 0 ? _sandbox.ClientAsync(token, "status", "web") : _sandbox.ClientAsync(token, "list"))
            .ToArray();
        var results = await Task.WhenAll(runs);

        Assert.That(results.Select(r => r.ExitCode), Is.All.Zero, string.Join("\n", results.Select(r => r.ToString())));
        Assert.That(results.Where((_, i) => i % 2 == 0).Select(r => r.Lines[0]), Is.All.EqualTo("Service: web"));
        Assert.That(results.Where((_, i) => i % 2 == 1).Select(r => r.Lines[0]), Is.All.EqualTo("Available services:"));
    }
}
