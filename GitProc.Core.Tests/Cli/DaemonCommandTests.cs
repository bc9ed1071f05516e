using System.Runtime.Versioning;
using GitProc.Cli;
using GitProc.Core.Tests.Ipc;
using GitProc.Core.Tests.TestSupport;
using GitProc.Logs;
using GitProc.Reconciliation;
using GitProc.ResourceControl;
using GitProc.Supervision;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace GitProc.Core.Tests.Cli;

/// <summary><c>gitproc daemon</c> in-process: the real Generic Host, hosted service and IPC server, over mocked components.</summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public class DaemonCommandTests
{
    private string _directory = null!;
    private string _socket = null!;
    private Mock<ISupervisor> _supervisor = null!;
    private Mock<IReconciler> _reconciler = null!;
    private List<string> _calls = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = IpcTestServer.CreateTempDirectory();
        _socket = Path.Combine(_directory, "d.sock");
        _calls = [];
        _supervisor = new Mock<ISupervisor>();
        _supervisor.Setup(s => s.InitializeAsync(It.IsAny<CancellationToken>())).Callback(() => Record("initialize")).ReturnsAsync((string?)null);
        _supervisor.Setup(s => s.StopAllAsync(It.IsAny<CancellationToken>())).Callback(() => Record("stop-all")).Returns(Task.CompletedTask);
        _supervisor.Setup(s => s.ListServices()).Returns([IpcServerTests.Running("web", 99)]);
        _supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(IpcServerTests.Running("web", 99));
        _reconciler = new Mock<IReconciler>();
        _reconciler.Setup(r => r.ResumeAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>())).Callback(() => Record("sync"))
            .ReturnsAsync(new SyncResult("c0ffee", new ApplyResult(["web"], [], [], [])));
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private void Record(string call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }
    }

    private bool HasCalled(string call)
    {
        lock (_calls)
        {
            return _calls.Contains(call);
        }
    }

    private GitProcCli Cli(IReadOnlyDictionary<string, string>? environment = null, Action<IServiceCollection>? more = null) => new(
        name => environment is not null && environment.TryGetValue(name, out var value) ? value : null,
        configureServices: services =>
        {
            services.AddSingleton(_supervisor.Object);
            services.AddSingleton(_reconciler.Object);
            services.AddSingleton(Mock.Of<IServiceLogs>());

            // No real cgroups for a daemon whose services are mocked.
            services.AddSingleton(Mock.Of<IResourceController>());
            more?.Invoke(services);
        });

    private string[] DaemonArgs(params string[] more) =>
    [
        "daemon",
        "--repo", Path.Combine(_directory, "repo"),
        "--state", Path.Combine(_directory, "state.json"),
        "--log-dir", Path.Combine(_directory, "logs"),
        .. more,
    ];

    [Test]
    public async Task The_daemon_syncs_then_serves_and_on_shutdown_closes_the_socket_then_stops_every_service()
    {
        using var stop = new CancellationTokenSource();
        var error = new ConcurrentStringWriter();
        var daemon = Cli().RunAsync(DaemonArgs("--socket", _socket), TextWriter.Null, error, stop.Token);
        Assert.That(() => File.Exists(_socket) || daemon.IsCompleted, Is.True.After(30_000, 50));
        Assert.That(daemon.IsCompleted, Is.False, error.ToString());

        var output = new StringWriter();
        var status = await new GitProcCli(_ => null).RunAsync(["status", "web", "--socket", _socket], output, TextWriter.Null);
        await stop.CancelAsync();
        var exitCode = await daemon.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(0));
            Assert.That(output.ToString(), Does.StartWith("Service: web\nStatus: running\nPID: 99\n"));
            Assert.That(exitCode, Is.EqualTo(0), error.ToString());
            Assert.That(_calls, Is.EqualTo(new[] { "initialize", "sync", "stop-all" }));
            Assert.That(File.Exists(_socket), Is.False, "the socket is removed on shutdown");
        });
    }

    [Test]
    public async Task A_rejected_initial_sync_is_logged_and_the_daemon_keeps_serving()
    {
        _reconciler.Setup(r => r.ResumeAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new GitProcException("Commit c0ffee rejected: web.service line 2: ExecStart is required"));
        using var stop = new CancellationTokenSource();
        var daemon = Cli().RunAsync(DaemonArgs("--socket", _socket), TextWriter.Null, TextWriter.Null, stop.Token);
        Assert.That(() => File.Exists(_socket) || daemon.IsCompleted, Is.True.After(30_000, 50));

        var status = await new GitProcCli(_ => null).RunAsync(["status", "web", "--socket", _socket], TextWriter.Null, TextWriter.Null);
        await stop.CancelAsync();

        Assert.That(status, Is.EqualTo(0));
        Assert.That(await daemon.WaitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(0));
    }

    [Test]
    public async Task A_second_daemon_on_a_live_socket_exits_1_without_touching_services()
    {
        await using var first = await IpcTestServer.StartAsync(o => o.SocketPath = _socket, directory: _directory);
        var error = new StringWriter();

        var exitCode = await Cli().RunAsync(DaemonArgs("--socket", _socket), TextWriter.Null, error);

        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(error.ToString(), Is.EqualTo($"Error: Another gitproc daemon is already listening on {_socket}; stop it first or choose another socket with --socket.\n"));
        _supervisor.Verify(s => s.InitializeAsync(It.IsAny<CancellationToken>()), Times.Never);
        Assert.That(File.Exists(_socket), Is.True, "the live daemon's socket is left alone");
    }

    [Test]
    public async Task A_second_daemon_on_the_same_state_exits_1_with_one_line_naming_the_holder_before_touching_anything()
    {
        using var stop = new CancellationTokenSource();
        var first = Cli().RunAsync(DaemonArgs("--socket", _socket), TextWriter.Null, TextWriter.Null, stop.Token);
        Assert.That(() => HasCalled("sync") || first.IsCompleted, Is.True.After(30_000, 50));
        lock (_calls)
        {
            _calls.Clear();
        }

        var otherSocket = Path.Combine(_directory, "other.sock");
        var error = new StringWriter();

        var exitCode = await Cli().RunAsync(DaemonArgs("--socket", otherSocket), TextWriter.Null, error);

        var state = Path.Combine(_directory, "state.json");
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(1));
            Assert.That(error.ToString(), Is.EqualTo(
                $"Error: Another gitproc daemon (PID {Environment.ProcessId}) owns the state {state} (lock {state}.lock); stop it first or give this one its own --state.\n"));
            Assert.That(_calls, Is.Empty, "the second daemon neither read the state nor started or stopped anything");
            Assert.That(File.Exists(otherSocket), Is.False, "the second daemon did not claim its socket");
            Assert.That(first.IsCompleted, Is.False, "the first daemon keeps running");
        });

        await stop.CancelAsync();
        Assert.That(await first.WaitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(0));

        // Its lock went with it.
        using var again = new CancellationTokenSource();
        var next = Cli().RunAsync(DaemonArgs("--socket", otherSocket), TextWriter.Null, TextWriter.Null, again.Token);
        Assert.That(() => File.Exists(otherSocket) || next.IsCompleted, Is.True.After(30_000, 50));
        Assert.That(next.IsCompleted, Is.False);
        await again.CancelAsync();
        Assert.That(await next.WaitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(0));
    }

    [Test]
    public async Task The_state_lock_is_held_until_the_supervisor_with_its_last_state_save_is_disposed()
    {
        var lockPath = Path.Combine(_directory, "state.json") + ".lock";
        bool? heldWhileDisposing = null;
        _supervisor.Setup(s => s.DisposeAsync()).Returns(() =>
        {
            using var probe = GitProc.Locking.ExclusiveLock.TryAcquireFile(lockPath, out _);
            heldWhileDisposing = probe is null;
            return ValueTask.CompletedTask;
        });
        var cli = new GitProcCli(
            _ => null,
            configureServices: services =>
            {
                // Created by the container, so disposed by it, as the real supervisor is.
                services.AddSingleton<ISupervisor>(_ => _supervisor.Object);
                services.AddSingleton(_reconciler.Object);
                services.AddSingleton(Mock.Of<IServiceLogs>());
                services.AddSingleton(Mock.Of<IResourceController>());
            });
        using var stop = new CancellationTokenSource();

        var daemon = cli.RunAsync(DaemonArgs("--socket", _socket), TextWriter.Null, TextWriter.Null, stop.Token);
        Assert.That(() => HasCalled("sync") || daemon.IsCompleted, Is.True.After(30_000, 50));
        await stop.CancelAsync();

        Assert.That(await daemon.WaitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(0));
        Assert.That(heldWhileDisposing, Is.True, "the supervisor's last save happens under the lock");
        using var free = GitProc.Locking.ExclusiveLock.TryAcquireFile(lockPath, out _);
        Assert.That(free, Is.Not.Null, "and the lock is released when the daemon is gone");
    }

    [Test]
    public async Task Settings_come_from_a_top_level_config_file_below_environment_and_command_line()
    {
        var config = Path.Combine(_directory, "gitproc.json");
        var fileSocket = Path.Combine(_directory, "file.sock");
        var environmentSocket = Path.Combine(_directory, "env.sock");
        await File.WriteAllTextAsync(config, $$"""{ "SocketPath": "{{fileSocket}}", "Ipc": { "SocketMode": "0640" } }""");

        using (var stop = new CancellationTokenSource())
        {
            var daemon = Cli().RunAsync(DaemonArgs("--config", config), TextWriter.Null, TextWriter.Null, stop.Token);
            Assert.That(() => File.Exists(fileSocket) || daemon.IsCompleted, Is.True.After(30_000, 50));
            Assert.That(File.GetUnixFileMode(fileSocket), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead));
            await stop.CancelAsync();
            Assert.That(await daemon.WaitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(0));
        }

        using (var stop = new CancellationTokenSource())
        {
            var environment = new Dictionary<string, string> { [CliContext.SocketVariable] = environmentSocket };
            var daemon = Cli(environment).RunAsync(DaemonArgs("--config", config), TextWriter.Null, TextWriter.Null, stop.Token);
            Assert.That(() => File.Exists(environmentSocket) || daemon.IsCompleted, Is.True.After(30_000, 50));
            await stop.CancelAsync();
            Assert.That(await daemon.WaitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(0));
        }

        using (var stop = new CancellationTokenSource())
        {
            var environment = new Dictionary<string, string> { [CliContext.SocketVariable] = environmentSocket };
            var daemon = Cli(environment).RunAsync(DaemonArgs("--config", config, "--socket", _socket), TextWriter.Null, TextWriter.Null, stop.Token);
            Assert.That(() => File.Exists(_socket) || daemon.IsCompleted, Is.True.After(30_000, 50));
            Assert.That(File.Exists(_socket), Is.True);
            await stop.CancelAsync();
            Assert.That(await daemon.WaitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(0));
        }
    }

    [TestCase("""{ "GitProc": { "Ipc": { "SocketMode": "rw-------" } } }""", "SocketMode")]
    [TestCase("""{ "GitProc": { "Ipc": { "MaxConnections": 0 } } }""", "MaxConnections must be at least 1 (was 0)")]
    [TestCase("""{ "GitProc": { "Ipc": { "IdleTimeout": "00:00:00.5" } } }""", "Ipc.IdleTimeout must be at least 1 second, such as 00:05:00 for 5 minutes (was 00:00:00.5000000)")]
    [TestCase("""{ "GitProc": { "Delivery": { "VerifyWindow": "soon" } } }""", "Failed to convert configuration value 'soon' at 'GitProc:Delivery:VerifyWindow' to type 'System.TimeSpan'.")]
    [TestCase("""{ "GitProc": { "WatchBranch": "main..next" } }""", "WatchBranch must be a valid Git branch name (was 'main..next').")]
    [TestCase("""{ "GitProc": { "Git": { "RemoteBranch": "a b" } } }""", "Git.RemoteBranch must be a valid Git branch name (was 'a b').")]
    [TestCase("""{ "GitProc": { "Git": { "RemoteUrl": "https://ci:hunter2@git.example.com/u.git" } } }""", "Git.RemoteUrl must not carry credentials (was 'https://***@git.example.com/u.git'); put them in Git.CredentialsFile")]
    [TestCase("""{ "GitProc": { "Git": { "FetchTimeout": "00:00:00" } } }""", "Git.FetchTimeout must be positive")]
    [TestCase("""{ "GitProc": { "HostName": "web 1" } }""", "HostName must be a host name without spaces, such as web-1 (was 'web 1').")]
    [TestCase("""{ "GitProc": { "MachineId": "not-an-id" } }""", "MachineId must be 32 hexadecimal digits, as in /etc/machine-id (was 'not-an-id').")]
    public async Task Invalid_settings_exit_1_naming_the_field(string json, string named)
    {
        var config = Path.Combine(_directory, "gitproc.json");
        await File.WriteAllTextAsync(config, json);
        var error = new StringWriter();

        var exitCode = await Cli().RunAsync(DaemonArgs("--config", config, "--socket", _socket), TextWriter.Null, error);

        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(error.ToString(), Does.StartWith("Error: Invalid settings: ").And.Contain(named).And.EndWith("\n"));
        Assert.That(error.ToString().TrimEnd('\n'), Does.Not.Contain('\n'), "one line");
        Assert.That(File.Exists(_socket), Is.False);
        _supervisor.Verify(s => s.InitializeAsync(It.IsAny<CancellationToken>()), Times.Never);
    }

    [Test]
    public async Task A_config_file_that_is_not_JSON_exits_1_saying_where_it_is_broken()
    {
        var config = Path.Combine(_directory, "gitproc.json");
        await File.WriteAllTextAsync(config, "{ oops");
        var error = new StringWriter();

        var exitCode = await Cli().RunAsync(DaemonArgs("--config", config, "--socket", _socket), TextWriter.Null, error);

        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(error.ToString(), Is.EqualTo(
            $"Error: The config file {config} cannot be read: Failed to load configuration from file '{config}': 'o' is an invalid start of a property name. Expected a '\"'. LineNumber: 0 | BytePositionInLine: 2.\n"));
    }

    [Test]
    public async Task A_daemon_whose_background_work_fails_stops_its_services_and_exits_1_with_one_line()
    {
        var error = new ConcurrentStringWriter();

        var exitCode = await Cli(more: services => services.AddHostedService<FailingWork>())
            .RunAsync(DaemonArgs("--socket", _socket), TextWriter.Null, error)
            .WaitAsync(TimeSpan.FromSeconds(30));

        // systemd's Restart=on-failure must see a failure, not a clean stop.
        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(error.ToString(), Is.EqualTo("Error: the daemon stopped after an internal failure: InvalidOperationException: the work failed\n"));
        Assert.That(_calls, Is.EqualTo(new[] { "initialize", "sync", "stop-all" }));
    }

    [Test]
    public async Task A_daemon_whose_background_work_fails_during_a_slow_initial_apply_still_stops_its_services_and_exits_1()
    {
        // The work fails while the initial apply is still running: the host cancels the start it is still in.
        var applying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _reconciler.Setup(r => r.ResumeAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Returns(async (string? _, CancellationToken token) =>
            {
                Record("sync");
                applying.TrySetResult();
                await Task.Delay(TimeSpan.FromSeconds(20), token);
                return new SyncResult("c0ffee", new ApplyResult(["web"], [], [], []));
            });
        var error = new ConcurrentStringWriter();

        var exitCode = await Cli(more: services => services.AddHostedService(_ => new FailingWork(applying.Task)))
            .RunAsync(DaemonArgs("--socket", _socket), TextWriter.Null, error)
            .WaitAsync(TimeSpan.FromSeconds(15));

        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(error.ToString(), Is.EqualTo("Error: the daemon stopped after an internal failure: InvalidOperationException: the work failed\n"));
        Assert.That(_calls, Is.EqualTo(new[] { "initialize", "sync", "stop-all" }), "what the interrupted start brought up is stopped");
    }

    /// <summary>Background work of the daemon that fails once the daemon runs, as a bug in a watch loop would.</summary>
    private sealed class FailingWork(Task? after = null) : Microsoft.Extensions.Hosting.BackgroundService
    {
        public FailingWork()
            : this(null)
        {
        }

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await (after ?? Task.Delay(200, stoppingToken)).WaitAsync(stoppingToken);
            throw new InvalidOperationException("the work failed");
        }
    }

    [Test]
    public async Task A_missing_config_file_exits_1_naming_it()
    {
        var missing = Path.Combine(_directory, "missing.json");
        var error = new StringWriter();

        var exitCode = await Cli().RunAsync(DaemonArgs("--config", missing, "--socket", _socket), TextWriter.Null, error);

        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(error.ToString(), Does.Contain(missing));
    }
}
