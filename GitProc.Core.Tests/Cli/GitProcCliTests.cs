using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;
using System.Threading.Channels;
using GitProc.Cli;
using GitProc.Core.Tests.Ipc;
using GitProc.Core.Tests.TestSupport;
using GitProc.Reconciliation;
using GitProc.Supervision;
using LibGit2Sharp;
using Moq;

namespace GitProc.Core.Tests.Cli;

[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public class GitProcCliTests
{
    private static async Task<CliRun> RunAsync(IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken, params string[] args)
    {
        var output = new ConcurrentStringWriter();
        var error = new ConcurrentStringWriter();
        var cli = new GitProcCli(name => environment is not null && environment.TryGetValue(name, out var value) ? value : null);
        var exitCode = await cli.RunAsync(args, output, error, cancellationToken);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    private static Task<CliRun> RunAsync(IpcTestServer host, params string[] args) =>
        RunAsync(null, CancellationToken.None, [.. args, "--socket", host.SocketPath]);

    [Test]
    public async Task Start_prints_the_service_and_its_pid()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StartAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 42));

        var run = await RunAsync(host, "start", "web");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Out, Is.EqualTo("Service started: web (PID: 42)\n"));
        Assert.That(run.Error, Is.Empty);
    }

    [Test]
    public async Task Stop_and_restart_print_their_lines()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StopAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Stopped("web"));
        host.Supervisor.Setup(s => s.RestartAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 43));

        var stop = await RunAsync(host, "stop", "web");
        var restart = await RunAsync(host, "restart", "web");

        Assert.Multiple(() =>
        {
            Assert.That(stop.ExitCode, Is.EqualTo(0), stop.ToString());
            Assert.That(stop.Out, Is.EqualTo("Service stopped: web\n"));
            Assert.That(restart.ExitCode, Is.EqualTo(0), restart.ToString());
            Assert.That(restart.Out, Is.EqualTo("Service restarted: web (PID: 43)\n"));
        });
    }

    [Test]
    public async Task Status_of_a_running_service_prints_the_contract_lines_in_order()
    {
        await using var host = await IpcTestServer.StartAsync();
        var status = IpcServerTests.Running("web", 12345);
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(status);

        var run = await RunAsync(host, "status", "web");

        var started = status.StartTime!.Value.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.OutLines.Take(6), Is.EqualTo(new[]
        {
            "Service: web",
            "Status: running",
            "PID: 12345",
            "Started: " + started,
            "Restarts: 2",
            "Last Exit Code: 0",
        }));
        Assert.That(run.OutLines.Skip(6), Is.EqualTo(new[] { "Sub-State: running", "Description: The web service" }));
    }

    [Test]
    public async Task Status_of_a_stopped_service_omits_pid_start_and_unknown_exit_code()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync("db", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Stopped("db"));

        var run = await RunAsync(host, "status", "db");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.OutLines, Is.EqualTo(new[]
        {
            "Service: db",
            "Status: stopped",
            "Restarts: 0",
            "Sub-State: dead",
            "Manually Stopped: yes",
        }));
    }

    [Test]
    public async Task Status_of_a_failed_service_shows_the_exit_code_and_the_reason()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync("worker", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Failed("worker", 3));

        var run = await RunAsync(host, "status", "worker");

        Assert.That(run.OutLines, Is.EqualTo(new[]
        {
            "Service: worker",
            "Status: failed",
            "Restarts: 0",
            "Last Exit Code: 3",
            "Sub-State: start-limit-hit",
            "Last Exit: exited with code 3",
            "Failure: crashed 6 times within 10s",
        }));
    }

    [Test]
    public async Task Status_json_prints_the_daemon_object()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 7));

        var run = await RunAsync(host, "status", "web", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        using var json = JsonDocument.Parse(run.Out);
        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.GetProperty("service").GetString(), Is.EqualTo("web"));
            Assert.That(json.RootElement.GetProperty("state").GetString(), Is.EqualTo("running"));
            Assert.That(json.RootElement.GetProperty("pid").GetInt32(), Is.EqualTo(7));
            Assert.That(json.RootElement.GetProperty("restart_count").GetInt32(), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task List_prints_running_stopped_and_failed_services()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.ListServices()).Returns(
        [
            IpcServerTests.Running("web-server", 12345),
            IpcServerTests.Stopped("worker"),
            IpcServerTests.Failed("app", 1),
            IpcServerTests.Failed("crashy", null),
        ]);

        var run = await RunAsync(host, "list");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Out, Is.EqualTo(
            "Available services:\n" +
            "  web-server (running, PID: 12345)\n" +
            "  worker (stopped)\n" +
            "  app (failed, exit code: 1)\n" +
            "  crashy (failed)\n"));
    }

    [Test]
    public async Task List_json_prints_the_services_array()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.ListServices()).Returns([IpcServerTests.Running("web", 5)]);

        var run = await RunAsync(host, "list", "--json");

        using var json = JsonDocument.Parse(run.Out);
        var service = json.RootElement.GetProperty("services")[0];
        Assert.That(service.GetProperty("name").GetString(), Is.EqualTo("web"));
        Assert.That(service.GetProperty("status").GetString(), Is.EqualTo("running"));
        Assert.That(service.GetProperty("pid").GetInt32(), Is.EqualTo(5));
    }

    [Test]
    public async Task An_unknown_service_is_one_line_on_stderr_and_exit_1()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ThrowsAsync(new ServiceNotFoundException("web"));

        var run = await RunAsync(host, "status", "web");

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Out, Is.Empty);
        Assert.That(run.Error, Is.EqualTo("Error: Service not found: web\n"));
    }

    [Test]
    public async Task Reload_prints_its_line_or_the_daemon_s_data_with_json()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.ReloadAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 44));

        var run = await RunAsync(host, "reload", "web");
        var json = await RunAsync(host, "reload", "web", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Out, Is.EqualTo("Service reloaded: web (PID: 44)\n"));
        Assert.That(json.ExitCode, Is.EqualTo(0), json.ToString());
        using var data = JsonDocument.Parse(json.Out);
        Assert.That(data.RootElement.GetProperty("service").GetString(), Is.EqualTo("web"));
        Assert.That(data.RootElement.GetProperty("pid").GetInt32(), Is.EqualTo(44));
    }

    [Test]
    public async Task Reloading_a_service_that_cannot_be_reloaded_is_exit_1_with_the_reason()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.ReloadAsync("web", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ServiceOperationException("web", "Service not running: web"));

        var run = await RunAsync(host, "reload", "web");

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Out, Is.Empty);
        Assert.That(run.Error, Is.EqualTo("Error: Service not running: web\n"));
    }

    [Test]
    public async Task Starting_a_running_service_is_exit_1_with_the_reason()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StartAsync("web", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ServiceOperationException("web", "Service already running: web (PID: 42)"));

        var run = await RunAsync(host, "start", "web");

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Is.EqualTo("Error: Service already running: web (PID: 42)\n"));
    }

    [Test]
    public async Task With_json_a_daemon_error_is_the_error_object_on_stdout_under_the_daemons_code()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StartAsync("web", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ServiceOperationException("web", "Service already running: web") { Code = GitProcErrorCodes.AlreadyRunning });

        var run = await RunAsync(host, "start", "web", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Out, Is.EqualTo("""{"error":{"code":"already_running","message":"Service already running: web"}}""" + "\n"));
        Assert.That(run.Error, Is.EqualTo("Error: Service already running: web\n"), "stderr as without --json");
    }

    [Test]
    public async Task With_json_a_failed_reload_is_the_error_object_on_stdout_too()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.ReloadAsync("web", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ServiceOperationException("web", "Service not running: web") { Code = GitProcErrorCodes.NotRunning });

        var run = await RunAsync(host, "reload", "web", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Out, Is.EqualTo("""{"error":{"code":"not_running","message":"Service not running: web"}}""" + "\n"));
        Assert.That(run.Error, Is.EqualTo("Error: Service not running: web\n"));
    }

    [TestCase("frobnicate")]
    [TestCase("start")]
    [TestCase("status", "web", "--bogus")]
    [TestCase("logs", "web", "--lines", "many")]
    [TestCase("logs", "web", "-n", "-1")]
    [TestCase("rollback")]
    [TestCase]
    public async Task Usage_errors_exit_2_with_one_line_on_stderr(params string[] args)
    {
        var run = await RunAsync(null, CancellationToken.None, args);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.Out, Is.Empty);
        Assert.That(run.Error.TrimEnd('\n'), Does.StartWith("Error: ").And.Not.Contain("\n"));
    }

    [Test]
    public async Task An_unknown_command_is_named_in_the_error()
    {
        var run = await RunAsync(null, CancellationToken.None, "frobnicate");

        Assert.That(run.Error, Does.Contain("'frobnicate'"));
    }

    [Test]
    public async Task Help_exits_0_and_lists_the_commands()
    {
        var run = await RunAsync(null, CancellationToken.None, "--help");

        Assert.That(run.ExitCode, Is.EqualTo(0));
        Assert.That(run.Out, Does.Contain("daemon").And.Contain("rollback").And.Contain("--socket"));
    }

    [Test]
    public async Task An_unreachable_daemon_is_exit_1_naming_the_socket()
    {
        var directory = IpcTestServer.CreateTempDirectory();
        try
        {
            var socket = Path.Combine(directory, "missing.sock");

            var run = await RunAsync(null, CancellationToken.None, "status", "web", "--socket", socket);

            Assert.That(run.ExitCode, Is.EqualTo(1));
            Assert.That(run.Error, Does.StartWith($"Error: Cannot connect to the gitproc daemon at {socket}: "));
            Assert.That(run.Error.TrimEnd('\n'), Does.Not.Contain("\n"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public async Task The_socket_comes_from_GITPROC_SOCKET_and_socket_option_overrides_it()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StopAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Stopped("web"));
        var bogus = Path.Combine(host.Directory, "bogus.sock");

        var fromEnvironment = await RunAsync(new Dictionary<string, string> { ["GITPROC_SOCKET"] = host.SocketPath }, CancellationToken.None, "stop", "web");
        var optionWins = await RunAsync(new Dictionary<string, string> { ["GITPROC_SOCKET"] = bogus }, CancellationToken.None, "stop", "web", "--socket", host.SocketPath);
        var optionWinsTheOtherWay = await RunAsync(new Dictionary<string, string> { ["GITPROC_SOCKET"] = host.SocketPath }, CancellationToken.None, "--socket", bogus, "stop", "web");

        Assert.Multiple(() =>
        {
            Assert.That(fromEnvironment.ExitCode, Is.EqualTo(0), fromEnvironment.ToString());
            Assert.That(optionWins.ExitCode, Is.EqualTo(0), optionWins.ToString());
            Assert.That(optionWinsTheOtherWay.ExitCode, Is.EqualTo(1));
            Assert.That(optionWinsTheOtherWay.Error, Does.Contain(bogus));
        });
    }

    [Test]
    public async Task The_socket_comes_from_the_config_file_below_the_environment()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StopAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Stopped("web"));
        var config = Path.Combine(host.Directory, "gitproc.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { GitProc = new { SocketPath = host.SocketPath } }));
        var bogus = Path.Combine(host.Directory, "bogus.sock");

        var fromFile = await RunAsync(null, CancellationToken.None, "--config", config, "stop", "web");
        var environmentWins = await RunAsync(new Dictionary<string, string> { ["GITPROC_SOCKET"] = bogus }, CancellationToken.None, "--config", config, "stop", "web");

        Assert.That(fromFile.ExitCode, Is.EqualTo(0), fromFile.ToString());
        Assert.That(environmentWins.Error, Does.Contain(bogus));
    }

    [Test]
    public async Task Logs_prints_the_stored_lines()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatus("web")).Returns(IpcServerTests.Running("web"));
        host.Logs.Setup(l => l.ReadLastLinesAsync("web", 2, It.IsAny<CancellationToken>()))
            .ReturnsAsync(["[2024-10-25 14:30:15] Starting server on port 8080", "[2024-10-25 14:30:16] Server ready"]);

        var run = await RunAsync(host, "logs", "web", "-n", "2");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Out, Is.EqualTo("[2024-10-25 14:30:15] Starting server on port 8080\n[2024-10-25 14:30:16] Server ready\n"));
    }

    [Test]
    public async Task Logs_asks_for_100_lines_by_default_and_no_logs_is_exit_1()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatus("web")).Returns(IpcServerTests.Running("web"));
        host.Logs.Setup(l => l.ReadLastLinesAsync("web", 100, It.IsAny<CancellationToken>())).ReturnsAsync([]);

        var run = await RunAsync(host, "logs", "web");

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Is.EqualTo("Error: No logs for service: web\n"));
    }

    [Test]
    public async Task Logs_follow_prints_new_lines_until_interrupted()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatus("web")).Returns(IpcServerTests.Running("web"));
        host.Logs.Setup(l => l.ReadLastLinesAsync("web", 100, It.IsAny<CancellationToken>())).ReturnsAsync(["old"]);
        var feed = Channel.CreateUnbounded<string>();
        host.Logs.Setup(l => l.FollowAsync("web", It.IsAny<CancellationToken>()))
            .Returns((string _, CancellationToken token) => feed.Reader.ReadAllAsync(token));
        using var interrupt = new CancellationTokenSource();
        var output = new ConcurrentStringWriter();
        var error = new ConcurrentStringWriter();

        var running = new GitProcCli(_ => null).RunAsync(["logs", "web", "--follow", "--socket", host.SocketPath], output, error, interrupt.Token);
        Assert.That(output.ToString, Is.EqualTo("old\n").After(10_000, 20));
        await feed.Writer.WriteAsync("new 1");
        await feed.Writer.WriteAsync("new 2");
        Assert.That(output.ToString, Is.EqualTo("old\nnew 1\nnew 2\n").After(10_000, 20));
        await interrupt.CancelAsync();
        var exitCode = await running.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(exitCode, Is.EqualTo(0), error.ToString());
        Assert.That(() => host.Server.ConnectionCount, Is.Zero.After(10_000, 50));
    }

    [Test]
    public async Task Sync_prints_synced_and_the_reloaded_count()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Reconciler.Setup(r => r.SyncAsync(It.IsAny<CancellationToken>()))
            .ReturnsAsync(new SyncResult("c0ffee", new ApplyResult(["a"], ["b"], ["c"], [])));

        var run = await RunAsync(host, "sync");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Out, Is.EqualTo("Synced with Git repository\nReloaded 3 services\n"));
    }

    [Test]
    public async Task A_rejected_sync_is_exit_1_with_the_reason_on_one_line()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Reconciler.Setup(r => r.SyncAsync(It.IsAny<CancellationToken>()))
            .ThrowsAsync(new GitProcException("Commit 1234567 rejected:\nweb.service line 3: unknown time span 'soon'"));

        var run = await RunAsync(host, "sync");

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Is.EqualTo("Error: Commit 1234567 rejected: web.service line 3: unknown time span 'soon'\n"));
    }

    [Test]
    public async Task Rollback_prints_the_restored_and_new_commits()
    {
        await using var host = await IpcTestServer.StartAsync();
        const string restored = "abc1234def5678abc1234def5678abc1234def56";
        const string created = "0123456789abcdef0123456789abcdef01234567";
        host.Reconciler.Setup(r => r.RollbackAsync("abc1234", It.IsAny<CancellationToken>()))
            .ReturnsAsync(new RollbackResult(restored, created, new SyncResult(created, new ApplyResult([], ["web"], [], []))));

        var run = await RunAsync(host, "rollback", "abc1234");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Out, Is.EqualTo($"Rolled back to abc1234\nNew commit: {created}\nReloaded 1 services\n"));
    }

    [Test]
    public async Task Init_creates_a_repository_on_main_and_refuses_a_second_time()
    {
        var directory = IpcTestServer.CreateTempDirectory();
        try
        {
            var repo = Path.Combine(directory, "services");

            var first = await RunAsync(null, CancellationToken.None, "init", "--repo", repo);
            var second = await RunAsync(null, CancellationToken.None, "init", "--repo", repo);

            Assert.That(first.ExitCode, Is.EqualTo(0), first.ToString());
            Assert.That(Repository.IsValid(repo), Is.True);
            using (var repository = new Repository(repo))
            {
                Assert.That(repository.Head.CanonicalName, Is.EqualTo("refs/heads/main"));
            }

            Assert.That(second.ExitCode, Is.EqualTo(1));
            Assert.That(second.Error, Is.EqualTo($"Error: A Git repository already exists at {repo}.\n"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public async Task Init_takes_the_repository_from_GITPROC_REPO()
    {
        var directory = IpcTestServer.CreateTempDirectory();
        try
        {
            var repo = Path.Combine(directory, "from-env");

            var run = await RunAsync(new Dictionary<string, string> { ["GITPROC_REPO"] = repo }, CancellationToken.None, "init");

            Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
            Assert.That(Repository.IsValid(repo), Is.True);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
