using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using GitProc.Core.Tests.TestSupport;
using GitProc.Ipc;
using GitProc.Reconciliation;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GitProc.Core.Tests.Ipc;

[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public partial class IpcServerTests
{
    private static readonly DateTimeOffset Started = new(2024, 10, 25, 14, 30, 15, TimeSpan.Zero);

    internal static ServiceSnapshot Running(string name, int pid = 4242) => new()
    {
        Name = name,
        Status = ServiceStatus.Running,
        SubState = "running",
        Description = "The " + name + " service",
        Pid = pid,
        StartTime = Started,
        RestartCount = 2,
        LastExitCode = 0,
    };

    internal static ServiceSnapshot Stopped(string name) => new()
    {
        Name = name,
        Status = ServiceStatus.Stopped,
        SubState = "dead",
        ManuallyStopped = true,
    };

    internal static ServiceSnapshot Failed(string name, int? exitCode) => new()
    {
        Name = name,
        Status = ServiceStatus.Failed,
        SubState = "start-limit-hit",
        LastExitCode = exitCode,
        LastExit = exitCode is null ? null : $"exited with code {exitCode}",
        FailureReason = "crashed 6 times within 10s",
    };

    [Test]
    public async Task Status_answers_with_every_contract_key()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web"));
        await using var client = await host.ConnectAsync();

        using var response = await client.RequestAsync("""{"command": "status", "service": "web"}""");

        var root = response.RootElement;
        Assert.That(root.GetProperty("status").GetString(), Is.EqualTo("success"));
        Assert.That(root.TryGetProperty("error", out _), Is.False);
        var data = root.GetProperty("data");
        Assert.Multiple(() =>
        {
            Assert.That(data.GetProperty("service").GetString(), Is.EqualTo("web"));
            Assert.That(data.GetProperty("state").GetString(), Is.EqualTo("running"));
            Assert.That(data.GetProperty("pid").GetInt32(), Is.EqualTo(4242));
            Assert.That(data.GetProperty("start_time").GetDateTimeOffset(), Is.EqualTo(Started));
            Assert.That(data.GetProperty("start_time").GetString(), Does.StartWith("2024-10-25T14:30:15"));
            Assert.That(data.GetProperty("restart_count").GetInt32(), Is.EqualTo(2));
            Assert.That(data.GetProperty("last_exit_code").GetInt32(), Is.EqualTo(0));
            Assert.That(data.GetProperty("sub_state").GetString(), Is.EqualTo("running"));
            Assert.That(data.GetProperty("description").GetString(), Is.EqualTo("The web service"));
            Assert.That(data.GetProperty("manually_stopped").GetBoolean(), Is.False);
        });
    }

    [Test]
    public async Task Status_of_a_stopped_service_has_null_pid_and_start_time()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync("db", It.IsAny<CancellationToken>())).ReturnsAsync(Stopped("db"));
        await using var client = await host.ConnectAsync();

        using var response = await client.RequestAsync("""{"command":"status","service":"db"}""");

        var data = response.RootElement.GetProperty("data");
        Assert.Multiple(() =>
        {
            Assert.That(data.GetProperty("state").GetString(), Is.EqualTo("stopped"));
            Assert.That(data.GetProperty("pid").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(data.GetProperty("start_time").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(data.GetProperty("last_exit_code").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(data.GetProperty("manually_stopped").GetBoolean(), Is.True);
        });
    }

    [Test]
    public async Task List_answers_services_with_name_status_and_pid()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.ListServices()).Returns([Running("api", 12), Stopped("db"), Failed("worker", 3)]);
        await using var client = await host.ConnectAsync();

        using var response = await client.RequestAsync("""{"command":"list"}""");

        var services = response.RootElement.GetProperty("data").GetProperty("services");
        Assert.That(services.GetArrayLength(), Is.EqualTo(3));
        Assert.Multiple(() =>
        {
            Assert.That(services[0].GetProperty("name").GetString(), Is.EqualTo("api"));
            Assert.That(services[0].GetProperty("status").GetString(), Is.EqualTo("running"));
            Assert.That(services[0].GetProperty("pid").GetInt32(), Is.EqualTo(12));
            Assert.That(services[1].GetProperty("status").GetString(), Is.EqualTo("stopped"));
            Assert.That(services[1].GetProperty("pid").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(services[2].GetProperty("status").GetString(), Is.EqualTo("failed"));
            Assert.That(services[2].GetProperty("last_exit_code").GetInt32(), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task Start_restart_and_stop_answer_pid_and_service()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StartAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web", 42));
        host.Supervisor.Setup(s => s.RestartAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web", 43));
        host.Supervisor.Setup(s => s.StopAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Stopped("web"));
        await using var client = await host.ConnectAsync();

        using var started = await client.RequestAsync("""{"command":"start","service":"web"}""");
        using var restarted = await client.RequestAsync("""{"command":"restart","service":"web","args":{}}""");
        using var stopped = await client.RequestAsync("""{"command":"stop","service":"web"}""");

        Assert.Multiple(() =>
        {
            Assert.That(started.RootElement.GetProperty("data").GetRawText(), Is.EqualTo("""{"pid":42,"service":"web"}"""));
            Assert.That(restarted.RootElement.GetProperty("data").GetRawText(), Is.EqualTo("""{"pid":43,"service":"web"}"""));
            Assert.That(stopped.RootElement.GetProperty("data").GetRawText(), Is.EqualTo("""{"service":"web"}"""));
        });
    }

    [Test]
    public async Task Logs_answers_the_last_lines_each_ending_with_a_newline()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatus("web")).Returns(Running("web"));
        host.Logs.Setup(l => l.ReadLastLinesAsync("web", 100, It.IsAny<CancellationToken>()))
            .ReturnsAsync(["[2024-10-25 14:30:15] Server started", "[2024-10-25 14:30:16] Ready"]);
        host.Logs.Setup(l => l.ReadLastLinesAsync("web", 1, It.IsAny<CancellationToken>()))
            .ReturnsAsync(["[2024-10-25 14:30:16] Ready"]);
        await using var client = await host.ConnectAsync();

        using var byDefault = await client.RequestAsync("""{"command":"logs","service":"web"}""");
        using var one = await client.RequestAsync("""{"command":"logs","service":"web","args":{"lines":1,"follow":false}}""");

        Assert.Multiple(() =>
        {
            Assert.That(byDefault.RootElement.GetProperty("data").GetProperty("logs").GetString(),
                Is.EqualTo("[2024-10-25 14:30:15] Server started\n[2024-10-25 14:30:16] Ready\n"));
            Assert.That(one.RootElement.GetProperty("data").GetProperty("logs").GetString(), Is.EqualTo("[2024-10-25 14:30:16] Ready\n"));
        });
    }

    [Test]
    public async Task Logs_of_an_unknown_service_is_an_error()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatus("nope")).Throws(new ServiceNotFoundException("nope"));
        await using var client = await host.ConnectAsync();

        using var response = await client.RequestAsync("""{"command":"logs","service":"nope"}""");

        Assert.That(response.RootElement.GetProperty("error").GetString(), Is.EqualTo("Service not found: nope"));
    }

    [Test]
    public async Task Sync_and_rollback_answer_commits_and_reloaded_count()
    {
        await using var host = await IpcTestServer.StartAsync();
        var changes = new ApplyResult(["new"], ["changed"], ["gone"], ["same"]);
        host.Reconciler.Setup(r => r.SyncAsync(It.IsAny<CancellationToken>())).ReturnsAsync(new SyncResult("c0ffee", changes));
        host.Reconciler.Setup(r => r.RollbackAsync("abc123", It.IsAny<CancellationToken>()))
            .ReturnsAsync(new RollbackResult("abc123full", "def456full", new SyncResult("def456full", changes)));
        await using var client = await host.ConnectAsync();

        using var sync = await client.RequestAsync("""{"command":"sync"}""");
        using var rollback = await client.RequestAsync("""{"command":"rollback","args":{"commit":"abc123"}}""");

        var s = sync.RootElement.GetProperty("data");
        var r = rollback.RootElement.GetProperty("data");
        Assert.Multiple(() =>
        {
            Assert.That(s.GetProperty("commit").GetString(), Is.EqualTo("c0ffee"));
            Assert.That(s.GetProperty("reloaded").GetInt32(), Is.EqualTo(3));
            Assert.That(s.GetProperty("started")[0].GetString(), Is.EqualTo("new"));
            Assert.That(s.GetProperty("restarted")[0].GetString(), Is.EqualTo("changed"));
            Assert.That(s.GetProperty("stopped")[0].GetString(), Is.EqualTo("gone"));
            Assert.That(r.GetProperty("restored_commit").GetString(), Is.EqualTo("abc123full"));
            Assert.That(r.GetProperty("commit").GetString(), Is.EqualTo("def456full"));
            Assert.That(r.GetProperty("reloaded").GetInt32(), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task Component_errors_become_error_responses_and_the_connection_stays_usable()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.StartAsync("nope", It.IsAny<CancellationToken>())).ThrowsAsync(new ServiceNotFoundException("nope"));
        host.Supervisor.Setup(s => s.StartAsync("web", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ServiceOperationException("web", "Service already running: web") { Code = GitProcErrorCodes.AlreadyRunning });
        host.Supervisor.Setup(s => s.GetStatusAsync("boom", It.IsAny<CancellationToken>())).ThrowsAsync(new InvalidOperationException("something broke"));
        host.Reconciler.Setup(r => r.SyncAsync(It.IsAny<CancellationToken>()))
            .ThrowsAsync(new GitProcException("Commit abc rejected: web.service line 3: bad key"));
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web"));
        await using var client = await host.ConnectAsync();

        using var notFound = await client.RequestAsync("""{"command":"start","service":"nope"}""");
        using var already = await client.RequestAsync("""{"command":"start","service":"web"}""");
        using var unexpected = await client.RequestAsync("""{"command":"status","service":"boom"}""");
        using var rejected = await client.RequestAsync("""{"command":"sync"}""");
        using var fine = await client.RequestAsync("""{"command":"status","service":"web"}""");

        Assert.Multiple(() =>
        {
            Assert.That(notFound.RootElement.GetRawText(), Is.EqualTo("""{"status":"error","error":"Service not found: nope","code":"service_not_found"}"""));
            Assert.That(already.RootElement.GetProperty("error").GetString(), Is.EqualTo("Service already running: web"));
            Assert.That(already.RootElement.GetProperty("code").GetString(), Is.EqualTo("already_running"));
            Assert.That(unexpected.RootElement.GetProperty("status").GetString(), Is.EqualTo("error"));
            Assert.That(unexpected.RootElement.GetProperty("error").GetString(), Is.EqualTo("something broke"));
            Assert.That(unexpected.RootElement.GetProperty("code").GetString(), Is.EqualTo("internal"), "not a GitProc error: a bug");
            Assert.That(rejected.RootElement.GetProperty("error").GetString(), Is.EqualTo("Commit abc rejected: web.service line 3: bad key"));
            Assert.That(rejected.RootElement.GetProperty("code").GetString(), Is.EqualTo("failed"), "a GitProc error with no more specific code");
            Assert.That(fine.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
        });
    }

    [TestCase("{not json", "invalid JSON: ")]
    [TestCase("[1,2]", "invalid JSON: ")]
    [TestCase("null", "invalid JSON: a request must be a JSON object")]
    [TestCase("""{"command":"status","service":"web"} {"x":1}""", "invalid JSON: ")]
    [TestCase("""{"command":"status","service":"web","args":{"lines":"many"}}""", "invalid JSON: ")]
    [TestCase("""{"command":"frobnicate","service":"web"}""", "unknown command: frobnicate")]
    [TestCase("""{"service":"web"}""", "missing field: command")]
    [TestCase("""{"command":"status"}""", "missing field: service")]
    [TestCase("""{"command":"start"}""", "missing field: service")]
    [TestCase("""{"command":"logs","args":{"lines":5}}""", "missing field: service")]
    [TestCase("""{"command":"rollback"}""", "missing field: args.commit")]
    [TestCase("""{"command":"status","service":"../x"}""", "invalid service name: ../x")]
    [TestCase("""{"command":"stop","service":".hidden"}""", "invalid service name: .hidden")]
    [TestCase("""{"command":"start","service":"a/b"}""", "invalid service name: a/b")]
    [TestCase("""{"command":"status","service":"two words"}""", "invalid service name: two words")]
    [TestCase("""{"command":"status","service":""}""", "invalid service name: ")]
    [TestCase("""{"command":"logs","service":"web","args":{"lines":-1}}""", "invalid value for args.lines: -1 (must be 0 or more)")]
    [TestCase("""{"command":"stop","command":"start","service":"web"}""", "duplicate key: command")]
    [TestCase("""{"command":"status","service":"db","service":"web"}""", "duplicate key: service")]
    [TestCase("""{"command":"status","service":"web","comm\u0061nd":"status"}""", "duplicate key: command")]
    [TestCase("""{"command":"logs","service":"web","args":{"lines":1,"lines":2}}""", "duplicate key: args.lines")]
    [TestCase("""{"command":"logs","service":"web","args":{},"args":{}}""", "duplicate key: args")]
    [TestCase("""{"command":"status","service":"web","extra":1,"extra":2}""", "duplicate key: extra")]
    [TestCase("""{"command":"status","service":"web","args":{"x":[{"y":{"z":1,"z":1}}]}}""", "duplicate key: args.x[0].y.z")]
    public async Task Bad_input_gets_an_error_response_and_the_connection_stays_open(string line, string expectedError)
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web"));
        await using var client = await host.ConnectAsync();

        using var response = await client.RequestAsync(line);
        using var next = await client.RequestAsync("""{"command":"status","service":"web"}""");

        Assert.Multiple(() =>
        {
            Assert.That(response.RootElement.GetProperty("status").GetString(), Is.EqualTo("error"));
            Assert.That(response.RootElement.GetProperty("error").GetString(), Does.StartWith(expectedError));
            Assert.That(response.RootElement.GetProperty("code").GetString(), Is.EqualTo("invalid_request"));
            Assert.That(response.RootElement.TryGetProperty("data", out _), Is.False);
            host.Supervisor.Verify(s => s.StopAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
            host.Supervisor.Verify(s => s.StartAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
            Assert.That(next.RootElement.GetProperty("data").GetProperty("service").GetString(), Is.EqualTo("web"));
        });
    }

    [Test]
    public async Task Service_names_with_every_allowed_character_are_accepted()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync("getty@tty1:a_b.c-D9", It.IsAny<CancellationToken>())).ReturnsAsync(Running("getty@tty1:a_b.c-D9"));
        await using var client = await host.ConnectAsync();

        using var response = await client.RequestAsync("""{"command":"status","service":"getty@tty1:a_b.c-D9"}""");

        Assert.That(response.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
    }

    [Test]
    public async Task Blank_lines_and_CRLF_are_tolerated()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web"));
        await using var client = await host.ConnectAsync();

        await client.SendLineAsync("");
        await client.SendLineAsync("  \r");
        using var response = await client.RequestAsync("{\"command\":\"status\",\"service\":\"web\"}\r");

        Assert.That(response.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
    }

    [Test]
    public async Task One_connection_carries_many_requests_including_pipelined_ones()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string name, CancellationToken _) => Running(name));
        await using var client = await host.ConnectAsync();

        // Sent in one write: every answer must come back, in order.
        var batch = new StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            batch.Append("{\"command\":\"status\",\"service\":\"svc").Append(i).Append("\"}\n");
        }

        await client.Stream.WriteAsync(Encoding.UTF8.GetBytes(batch.ToString()));
        for (var i = 0; i < 200; i++)
        {
            using var response = JsonDocument.Parse((await client.ReadLineAsync())!);
            Assert.That(response.RootElement.GetProperty("data").GetProperty("service").GetString(), Is.EqualTo("svc" + i));
        }

        // And one at a time afterwards.
        for (var i = 0; i < 50; i++)
        {
            using var response = await client.RequestAsync("{\"command\":\"status\",\"service\":\"x" + i + "\"}");
            Assert.That(response.RootElement.GetProperty("data").GetProperty("service").GetString(), Is.EqualTo("x" + i));
        }
    }

    [Test]
    public async Task Fifty_concurrent_clients_each_get_their_own_answers()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string name, CancellationToken _) => Running(name));

        var clients = Enumerable.Range(0, 50).Select(async c =>
        {
            await using var client = await host.ConnectAsync();
            var answered = 0;
            for (var i = 0; i < 20; i++)
            {
                var name = $"c{c}-r{i}";
                using var response = await client.RequestAsync("{\"command\":\"status\",\"service\":\"" + name + "\"}");
                if (response.RootElement.GetProperty("data").GetProperty("service").GetString() == name)
                {
                    answered++;
                }
            }

            return answered;
        });

        var results = await Task.WhenAll(clients);

        Assert.That(results, Is.All.EqualTo(20));
    }

    [Test]
    public async Task A_slow_command_on_one_connection_does_not_delay_another()
    {
        await using var host = await IpcTestServer.StartAsync();
        var release = new TaskCompletionSource<ServiceSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Supervisor.Setup(s => s.StartAsync("slow", It.IsAny<CancellationToken>())).Returns(release.Task);
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web"));
        await using var slow = await host.ConnectAsync();
        await using var fast = await host.ConnectAsync();

        await slow.SendLineAsync("""{"command":"start","service":"slow"}""");
        using var answer = await fast.RequestAsync("""{"command":"status","service":"web"}""");
        release.SetResult(Running("slow", 7));
        var slowAnswer = await slow.ReadLineAsync();

        Assert.That(answer.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
        Assert.That(slowAnswer, Is.EqualTo("""{"status":"success","data":{"pid":7,"service":"slow"}}"""));
    }

    [Test]
    public async Task A_line_over_one_MiB_gets_an_error_and_a_closed_connection_while_others_keep_working()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatusAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string name, CancellationToken _) => Running(name));
        await using var hostile = await host.ConnectAsync();
        await using var bystander = await host.ConnectAsync();

        var huge = "{\"command\":\"status\",\"service\":\"" + new string('a', (int)(1.1 * 1024 * 1024)) + "\"}\n";
        var sending = Task.Run(async () =>
        {
            try
            {
                await hostile.Stream.WriteAsync(Encoding.UTF8.GetBytes(huge));
            }
            catch (IOException)
            {
                // The server closed the connection before taking it all: expected.
            }
        });
        var bystanding = Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                using var response = await bystander.RequestAsync("{\"command\":\"status\",\"service\":\"b" + i + "\"}");
                Assert.That(response.RootElement.GetProperty("data").GetProperty("service").GetString(), Is.EqualTo("b" + i));
            }
        });

        var error = await hostile.ReadLineAsync();
        var afterError = await hostile.ReadLineAsync();
        await sending;
        await bystanding;

        using var parsed = JsonDocument.Parse(error!);
        Assert.Multiple(() =>
        {
            Assert.That(parsed.RootElement.GetProperty("status").GetString(), Is.EqualTo("error"));
            Assert.That(parsed.RootElement.GetProperty("error").GetString(), Does.Contain("too long"));
            Assert.That(afterError, Is.Null, "the connection is closed after the error");
        });
    }

    [Test]
    public async Task A_client_over_MaxConnections_gets_an_error_and_a_closed_connection_and_the_others_are_served()
    {
        // The clock stands still, so the connections open never count as idle long enough to make room.
        await using var host = await IpcTestServer.StartAsync(o => o.Ipc.MaxConnections = 2, timeProvider: new FakeTimeProvider());
        host.Supervisor.Setup(s => s.GetStatusAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string name, CancellationToken _) => Running(name));
        await using var first = await host.ConnectAsync();
        await using var second = await host.ConnectAsync();
        using (await first.RequestAsync("{\"command\":\"status\",\"service\":\"a\"}"))
        using (await second.RequestAsync("{\"command\":\"status\",\"service\":\"b\"}"))
        {
        }

        await using (var third = await host.ConnectAsync())
        {
            var refusal = await third.ReadLineAsync();
            var afterRefusal = await third.ReadLineAsync();

            using var parsed = JsonDocument.Parse(refusal!);
            Assert.That(parsed.RootElement.GetProperty("status").GetString(), Is.EqualTo("error"));
            Assert.That(parsed.RootElement.GetProperty("error").GetString(), Does.Contain("Too many connections").And.Contain("2"));
            Assert.That(afterRefusal, Is.Null, "the refused connection is closed");
        }

        using (var stillServed = await first.RequestAsync("{\"command\":\"status\",\"service\":\"c\"}"))
        {
            Assert.That(stillServed.RootElement.GetProperty("data").GetProperty("service").GetString(), Is.EqualTo("c"));
        }

        await second.DisposeAsync();
        Assert.That(await ProcScan.WaitUntilAsync(() => host.Server.ConnectionCount < 2, TimeSpan.FromSeconds(5)), Is.True);
        await using var fourth = await host.ConnectAsync();
        using var served = await fourth.RequestAsync("{\"command\":\"status\",\"service\":\"d\"}");
        Assert.That(served.RootElement.GetProperty("data").GetProperty("service").GetString(), Is.EqualTo("d"), "a place freed by a closed client is available again");
    }

    [Test]
    public async Task A_line_of_exactly_one_MiB_is_still_served()
    {
        await using var host = await IpcTestServer.StartAsync();
        await using var client = await host.ConnectAsync();
        var prefix = "{\"command\":\"frobnicate\",\"x\":\"";
        var line = prefix + new string('a', IpcConnection.MaxRequestBytes - prefix.Length - 2) + "\"}";
        Assert.That(Encoding.UTF8.GetByteCount(line), Is.EqualTo(IpcConnection.MaxRequestBytes));

        using var response = await client.RequestAsync(line);

        Assert.That(response.RootElement.GetProperty("error").GetString(), Is.EqualTo("unknown command: frobnicate"));
    }

    [Test]
    public async Task The_socket_is_created_with_mode_0600_in_a_directory_created_if_missing()
    {
        var root = IpcTestServer.CreateTempDirectory();
        try
        {
            var directory = Path.Combine(root, "run", "sub");
            await using var host = await IpcTestServer.StartAsync(directory: directory);

            Assert.That(File.GetUnixFileMode(host.SocketPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Assert.That(Directory.GetFiles(directory), Is.EqualTo(new[] { host.SocketPath }), "no temporary socket is left behind");
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    [Test]
    public async Task The_socket_mode_is_configurable()
    {
        await using var host = await IpcTestServer.StartAsync(o => o.Ipc.SocketMode = "0660");

        Assert.That(File.GetUnixFileMode(host.SocketPath),
            Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));
    }

    [Test]
    public async Task The_socket_group_is_set_when_configured()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: giving a file to another group");
        }

        await using var host = await IpcTestServer.StartAsync(o =>
        {
            o.Ipc.SocketMode = "0660";
            o.Ipc.SocketGroup = "12345";
        });

        var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%g", host.SocketPath]) { RedirectStandardOutput = true })!;
        var gid = (await stat.StandardOutput.ReadToEndAsync()).Trim();
        await stat.WaitForExitAsync();
        Assert.That(gid, Is.EqualTo("12345"));
    }

    [Test]
    public async Task An_unknown_socket_group_fails_start_with_a_clear_message()
    {
        await using var host = await IpcTestServer.StartAsync(o => o.Ipc.SocketGroup = "no-such-group-gitproc", start: false);

        var error = Assert.ThrowsAsync<GitProcException>(() => host.Server.StartAsync());

        Assert.That(error!.Message, Does.Contain("no-such-group-gitproc"));
        Assert.That(File.Exists(host.SocketPath), Is.False);
    }

    [Test]
    public async Task A_stale_socket_file_is_replaced()
    {
        var directory = IpcTestServer.CreateTempDirectory();
        var path = Path.Combine(directory, "gitproc.sock");
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            // .NET unlinks the path it bound when the socket closes; a renamed file survives, like a crashed daemon's.
            var bound = Path.Combine(directory, "bound.sock");
            dead.Bind(new UnixDomainSocketEndPoint(bound));
            File.Move(bound, path);
        }

        var staleFileWasThere = File.Exists(path);
        await using var host = await IpcTestServer.StartAsync(directory: directory);
        host.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web"));
        await using var client = await host.ConnectAsync();
        using var response = await client.RequestAsync("""{"command":"status","service":"web"}""");

        Assert.That(staleFileWasThere, Is.True, "the test left a stale socket file to replace");
        Assert.That(response.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
    }

    [Test]
    public async Task A_second_server_on_a_live_socket_fails_and_leaves_the_first_working()
    {
        await using var first = await IpcTestServer.StartAsync();
        first.Supervisor.Setup(s => s.GetStatusAsync("web", It.IsAny<CancellationToken>())).ReturnsAsync(Running("web"));
        await using var second = await IpcTestServer.StartAsync(o => o.SocketPath = first.SocketPath, start: false);

        var error = Assert.ThrowsAsync<IpcSocketInUseException>(() => second.Server.StartAsync());

        Assert.That(error!.Message, Does.Contain("Another gitproc daemon is already listening on " + first.SocketPath));
        await using var client = await first.ConnectAsync();
        using var response = await client.RequestAsync("""{"command":"status","service":"web"}""");
        Assert.That(response.RootElement.GetProperty("status").GetString(), Is.EqualTo("success"));
    }

    [Test]
    public async Task Stop_removes_the_socket_file_and_closes_connections()
    {
        await using var host = await IpcTestServer.StartAsync();
        await using var client = await host.ConnectAsync();

        await host.Server.StopAsync();

        Assert.That(File.Exists(host.SocketPath), Is.False);
        Assert.That(await client.ReadLineAsync(), Is.Null);
    }

    [Test]
    public async Task Logs_follow_streams_new_lines_and_stops_when_the_client_closes()
    {
        await using var host = await IpcTestServer.StartAsync();
        host.Supervisor.Setup(s => s.GetStatus("web")).Returns(Running("web"));
        host.Logs.Setup(l => l.ReadLastLinesAsync("web", 2, It.IsAny<CancellationToken>())).ReturnsAsync(["old 1", "old 2"]);
        var feed = Channel.CreateUnbounded<string>();
        var followEnded = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Logs.Setup(l => l.FollowAsync("web", It.IsAny<CancellationToken>()))
            .Returns((string _, CancellationToken token) => Follow(feed.Reader, followEnded, token));
        var client = await host.ConnectAsync();

        await client.SendLineAsync("""{"command":"logs","service":"web","args":{"lines":2,"follow":true}}""");
        var backlog = await client.ReadLineAsync();
        await feed.Writer.WriteAsync("new 1");
        var first = await client.ReadLineAsync();
        await feed.Writer.WriteAsync("new 2");
        var second = await client.ReadLineAsync();
        await client.DisposeAsync();
        var cancelled = await followEnded.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Multiple(() =>
        {
            Assert.That(backlog, Is.EqualTo("""{"status":"success","data":{"logs":"old 1\nold 2\n"}}"""));
            Assert.That(first, Is.EqualTo("""{"status":"success","data":{"logs":"new 1\n"}}"""));
            Assert.That(second, Is.EqualTo("""{"status":"success","data":{"logs":"new 2\n"}}"""));
            Assert.That(cancelled, Is.True, "following was cancelled when the client closed");
        });
        Assert.That(() => host.Server.ConnectionCount, Is.Zero.After(10_000, 50));
    }

    [Test]
    public async Task Status_throughput_over_one_connection()
    {
        var supervisor = new FixedStatusSupervisor(Running("web"));
        await using var host = await IpcTestServer.StartAsync(supervisor: supervisor);
        const int count = 20_000;

        // A lean ping-pong client (pre-encoded request, reads to the newline) shows the server's own cost...
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(host.SocketPath));
        var request = Encoding.UTF8.GetBytes("{\"command\":\"status\",\"service\":\"web\"}\n");
        var buffer = new byte[4096];
        async Task<double> PingPongAsync(int n)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < n; i++)
            {
                await socket.SendAsync(request);
                var received = 0;
                do
                {
                    received += await socket.ReceiveAsync(buffer.AsMemory(received));
                }
                while (buffer[received - 1] != (byte)'\n');
            }

            return n / watch.Elapsed.TotalSeconds;
        }

        await PingPongAsync(2_000);
        var raw = await PingPongAsync(count);

        // ...and the library client what a tool gets.
        await using var client = new GitProcClient(host.SocketPath);
        var typed = new IpcRequest { Command = IpcCommands.Status, Service = "web" };
        for (var i = 0; i < 2_000; i++)
        {
            await client.SendAsync(typed);
        }

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var response = await client.SendAsync(typed);
            if (!response.IsSuccess)
            {
                Assert.Fail(response.Error ?? "error");
            }
        }

        var withClient = count / watch.Elapsed.TotalSeconds;
        TestContext.Out.WriteLine($"{count} status requests over one connection: {raw:F0} requests/s (raw client), {withClient:F0} requests/s (GitProcClient)");
        Assert.That(raw, Is.GreaterThan(1_000), "a generous sanity bound; the target is 20,000/s on an idle machine");
        Assert.That(withClient, Is.GreaterThan(1_000), "a generous sanity bound");
    }

    private static async IAsyncEnumerable<string> Follow(
        ChannelReader<string> feed,
        TaskCompletionSource<bool> ended,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                string line;
                try
                {
                    line = await feed.ReadAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    ended.TrySetResult(true);
                    throw;
                }

                yield return line;
            }
        }
        finally
        {
            ended.TrySetResult(cancellationToken.IsCancellationRequested);
        }
    }
}
