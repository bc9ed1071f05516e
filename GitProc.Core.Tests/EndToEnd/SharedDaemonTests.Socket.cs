using System.Text;
using System.Text.Json;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>The shared daemon over a raw socket: bad input and many clients (CONTRACT §7).</summary>
public partial class SharedDaemonTests
{
    private static string StatusOf(JsonDocument response) => response.RootElement.GetProperty("status").GetString()!;

    [TestCase("this is not json", TestName = "Invalid JSON")]
    [TestCase("""{"command": "status", "service": """, TestName = "Truncated JSON")]
    [TestCase("[1, 2, 3]", TestName = "A JSON array")]
    [TestCase("""{"command": "explode"}""", TestName = "An unknown command")]
    [TestCase("""{"service": "web"}""", TestName = "A missing command")]
    [TestCase("""{"command": "status"}""", TestName = "A missing service")]
    [TestCase("""{"command": "rollback"}""", TestName = "A missing commit")]
    [TestCase("""{"command": "status", "service": 42}""", TestName = "A service that is not a string")]
    [TestCase("""{"command": "status", "service": "../../etc"}""", TestName = "A service name with slashes")]
    [TestCase("""{"command": "stop", "service": ".web"}""", TestName = "A service name starting with a dot")]
    [TestCase("""{"command": "logs", "service": "web", "args": {"lines": "many"}}""", TestName = "lines that is not a number")]
    [TestCase("""{"command": "status", "service": "nope", "service": "web"}""", TestName = "A duplicate key")]
    [TestCase("""{"command": "logs", "service": "web", "args": {"lines": 1, "lines": 2}}""", TestName = "A duplicate key in args")]
    public async Task Bad_input_gets_an_error_response_and_the_connection_and_daemon_keep_working(string line, CancellationToken token)
    {
        await using var bystander = await RawIpcClient.ConnectAsync(_sandbox.Socket);
        await using var client = await RawIpcClient.ConnectAsync(_sandbox.Socket);

        using var error = await client.RequestAsync(line);
        Assert.That(StatusOf(error), Is.EqualTo("error"), error.RootElement.ToString);
        Assert.That(error.RootElement.GetProperty("error").GetString(), Is.Not.Empty);

        // The same connection still serves, and so does one that was open all along.
        using var after = await client.RequestAsync("""{"command":"status","service":"web"}""");
        Assert.That(StatusOf(after), Is.EqualTo("success"), after.RootElement.ToString);
        using var other = await bystander.RequestAsync("""{"command":"list"}""");
        Assert.That(StatusOf(other), Is.EqualTo("success"), other.RootElement.ToString);
        await AssertUndisturbedAsync();
    }

    [Test]
    public async Task A_line_over_1_MiB_gets_an_error_and_a_closed_connection_without_affecting_other_clients(CancellationToken token)
    {
        await using var bystander = await RawIpcClient.ConnectAsync(_sandbox.Socket);
        await using var client = await RawIpcClient.ConnectAsync(_sandbox.Socket);

        // A syntactically plausible request whose line is 1 MiB + 1 byte long (newline not counted).
        var padding = new string('x', (1024 * 1024) + 1 - """{"command":"list","pad":""}""".Length);
        var line = $$"""{"command":"list","pad":"{{padding}}"}""";
        Assert.That(Encoding.UTF8.GetByteCount(line), Is.EqualTo((1024 * 1024) + 1));

        // The daemon may answer and close before it has read everything: writing then fails, which is fine.
        var send = Task.Run(async () =>
        {
            try
            {
                await client.SendLineAsync(line);
            }
            catch (IOException)
            {
            }
        }, token);

        var response = await client.ReadLineAsync(token);
        Assert.That(response, Is.Not.Null, "an error response before the connection closes");
        using (var parsed = JsonDocument.Parse(response!))
        {
            Assert.That(StatusOf(parsed), Is.EqualTo("error"), response);
        }

        Assert.That(await client.ReadLineAsync(token), Is.Null, "the connection is closed after the error");
        await send;

        using var other = await bystander.RequestAsync("""{"command":"status","service":"web"}""");
        Assert.That(StatusOf(other), Is.EqualTo("success"), other.RootElement.ToString);
        await AssertUndisturbedAsync();
    }

    [Test]
    public async Task A_client_that_never_finishes_its_line_blocks_nobody(CancellationToken token)
    {
        await using var stalled = await RawIpcClient.ConnectAsync(_sandbox.Socket);
        await stalled.Stream.WriteAsync(Encoding.UTF8.GetBytes("""{"command":"li"""), token);

        var result = await _sandbox.ClientAsync(token, "status", "web");
        Assert.That(result.ExitCode, Is.Zero, result.ToString);

        // Finishing the line later still gets its answer.
        await stalled.SendLineAsync("""st"}""");
        var response = await stalled.ReadLineAsync(token);
        Assert.That(response, Does.Contain("\"success\""));
    }

    [Test]
    public async Task Fifty_concurrent_clients_each_get_their_own_answers_while_bad_clients_misbehave(CancellationToken token)
    {
        const int Clients = 50;
        const int RequestsEach = 10;
        using var start = new SemaphoreSlim(0);

        async Task<int> RunClientAsync(int index)
        {
            await using var client = await RawIpcClient.ConnectAsync(_sandbox.Socket);
            await start.WaitAsync(token);
            var ok = 0;
            for (var i = 0; i < RequestsEach; i++)
            {
                switch ((index + i) % 4)
                {
                    case 0:
                        using (var status = await client.RequestAsync("""{"command":"status","service":"web"}"""))
                        {
                            var data = status.RootElement.GetProperty("data");
                            if (StatusOf(status) == "success" && data.GetProperty("service").GetString() == "web" && data.GetProperty("pid").GetInt32() == _pids["web"])
                            {
                                ok++;
                            }
                        }

                        break;
                    case 1:
                        using (var list = await client.RequestAsync("""{"command":"list"}"""))
                        {
                            if (StatusOf(list) == "success" && list.RootElement.GetProperty("data").GetProperty("services").GetArrayLength() == 4)
                            {
                                ok++;
                            }
                        }

                        break;
                    case 2:
                        using (var bad = await client.RequestAsync("{not json"))
                        {
                            if (StatusOf(bad) == "error")
                            {
                                ok++;
                            }
                        }

                        break;
                    default:
                        using (var unknown = await client.RequestAsync($$"""{"command":"status","service":"ghost{{index}}"}"""))
                        {
                            if (StatusOf(unknown) == "error" && unknown.RootElement.GetProperty("error").GetString()!.Contains($"ghost{index}", StringComparison.Ordinal))
                            {
                                ok++;
                            }
                        }

                        break;
                }
            }

            return ok;
        }

        var clients = Enumerable.Range(0, Clients).Select(i => Task.Run(() => RunClientAsync(i), token)).ToArray();
        start.Release(Clients);
        var answered = await Task.WhenAll(clients);

        Assert.That(answered, Is.All.EqualTo(RequestsEach));
        await AssertUndisturbedAsync();
    }
}
