using System.Runtime.Versioning;
using System.Text.Json;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>--json</c> on every command (docs/json.md) with the real daemon, CLI, processes and repository: each command prints
/// one JSON object with the documented fields; each error code comes from its real condition, as the error object on
/// stdout beside the unchanged line on stderr, with the unchanged exit code; <c>logs -f --json</c> prints one object
/// per line as lines arrive.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(180_000)]
public sealed class JsonOutputTests : SandboxFixture
{
    private async Task<string> StartWithAsync(CancellationToken token, params string[] names)
    {
        foreach (var name in names)
        {
            Sandbox.WriteUnit(name, Sandbox.Unit(name));
        }

        var commit = await Sandbox.CommitAsync("services", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, names);
        return commit;
    }

    /// <summary>Runs <c>gitproc ARGS --json</c> against the sandbox: its stdout must be exactly one line holding one JSON object.</summary>
    private async Task<(CliResult Run, JsonElement Json)> JsonAsync(CancellationToken token, params string[] args)
    {
        var run = await Sandbox.ClientAsync(token, [.. args, "--json"]);
        return (run, Parse(run));
    }

    private static JsonElement Parse(CliResult run)
    {
        Assert.That(run.Stdout, Does.EndWith("\n"), run.ToString);
        Assert.That(run.Lines, Has.Length.EqualTo(1), run.ToString);
        using var document = JsonDocument.Parse(run.Stdout);
        Assert.That(document.RootElement.ValueKind, Is.EqualTo(JsonValueKind.Object), run.ToString);
        return document.RootElement.Clone();
    }

    /// <summary>The error object's code, after checking its shape, the exit code and the unchanged stderr line.</summary>
    private static string ErrorCode(CliResult run, JsonElement json, int exitCode = 1)
    {
        Assert.That(run.ExitCode, Is.EqualTo(exitCode), run.ToString);
        Assert.That(run.ErrorLines, Has.Length.EqualTo(1).And.Some.StartWith("Error: "), run.ToString);
        Assert.That(json.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "error" }), run.ToString);
        var error = json.GetProperty("error");
        Assert.That(error.GetProperty("message").GetString(), Is.EqualTo(run.ErrorLines[0]["Error: ".Length..]), "the same message as on stderr");
        return error.GetProperty("code").GetString()!;
    }

    [Test]
    public async Task Every_command_prints_one_object_with_the_documented_fields(CancellationToken token)
    {
        var first = await StartWithAsync(token, "web", "db");

        var (list, listJson) = await JsonAsync(token, "list");
        Assert.That(list.ExitCode, Is.Zero, list.ToString);
        var services = listJson.GetProperty("services").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.That(services.Keys, Is.EquivalentTo(new[] { "web", "db" }));
        Assert.That(services["web"].GetProperty("status").GetString(), Is.EqualTo("running"));
        Assert.That(services["web"].GetProperty("pid").GetInt32(), Is.Positive);

        var (status, statusJson) = await JsonAsync(token, "status", "web");
        Assert.That(status.ExitCode, Is.Zero, status.ToString);
        Assert.That(statusJson.GetProperty("service").GetString(), Is.EqualTo("web"));
        Assert.That(statusJson.GetProperty("state").GetString(), Is.EqualTo("running"));
        Assert.That(statusJson.GetProperty("pid").GetInt32(), Is.EqualTo(services["web"].GetProperty("pid").GetInt32()));
        Assert.That(statusJson.GetProperty("start_time").GetDateTimeOffset(), Is.LessThanOrEqualTo(DateTimeOffset.UtcNow));
        Assert.That(statusJson.GetProperty("restart_count").GetInt32(), Is.Zero);

        var (stop, stopJson) = await JsonAsync(token, "stop", "web");
        Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
        Assert.That(stopJson.ToString(), Is.EqualTo("""{"service":"web"}"""));

        var (start, startJson) = await JsonAsync(token, "start", "web");
        Assert.That(start.ExitCode, Is.Zero, start.ToString);
        Assert.That(startJson.GetProperty("service").GetString(), Is.EqualTo("web"));
        var startedPid = startJson.GetProperty("pid").GetInt32();
        Assert.That((await Sandbox.ListAsync())["web"].Pid, Is.EqualTo(startedPid), "the pid of the process that runs");

        var (restart, restartJson) = await JsonAsync(token, "restart", "web");
        Assert.That(restart.ExitCode, Is.Zero, restart.ToString);
        Assert.That(restartJson.GetProperty("service").GetString(), Is.EqualTo("web"));
        Assert.That(restartJson.GetProperty("pid").GetInt32(), Is.Positive.And.Not.EqualTo(startedPid));

        var (logs, logsJson) = await JsonAsync(token, "logs", "db");
        Assert.That(logs.ExitCode, Is.Zero, logs.ToString);
        Assert.That(logsJson.GetProperty("service").GetString(), Is.EqualTo("db"));
        Assert.That(
            logsJson.GetProperty("lines").EnumerateArray().Select(l => l.GetString()),
            Has.Some.Match(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] hello from db$"));

        var (check, checkJson) = await JsonAsync(token, "check", Sandbox.Repo);
        Assert.That(check.ExitCode, Is.Zero, check.ToString);
        Assert.That(checkJson.GetProperty("valid").GetBoolean(), Is.True);
        Assert.That(checkJson.GetProperty("files").GetInt32(), Is.EqualTo(2));

        Sandbox.RemoveUnit("db");
        var second = await Sandbox.CommitAsync("no db", token);
        var (sync, syncJson) = await JsonAsync(token, "sync");
        Assert.That(sync.ExitCode, Is.Zero, sync.ToString);
        Assert.That(syncJson.GetProperty("commit").GetString(), Is.EqualTo(second));
        Assert.That(syncJson.GetProperty("reloaded").GetInt32(), Is.GreaterThanOrEqualTo(0));
        Assert.That(syncJson.GetProperty("warnings").ValueKind, Is.EqualTo(JsonValueKind.Array));

        var (plan, planJson) = await JsonAsync(token, "plan", first);
        Assert.That(plan.ExitCode, Is.Zero, plan.ToString);
        Assert.That(planJson.GetProperty("commit").GetString(), Is.EqualTo(first));
        Assert.That(planJson.GetProperty("errors").GetArrayLength(), Is.Zero);
        Assert.That(
            planJson.GetProperty("actions").EnumerateArray().Select(a => $"{a.GetProperty("action").GetString()} {a.GetProperty("service").GetString()}"),
            Is.EquivalentTo(new[] { "start db", "unchanged web" }));

        var (rollback, rollbackJson) = await JsonAsync(token, "rollback", first[..7]);
        Assert.That(rollback.ExitCode, Is.Zero, rollback.ToString);
        Assert.That(rollbackJson.GetProperty("restored_commit").GetString(), Is.EqualTo(first));
        Assert.That(rollbackJson.GetProperty("commit").GetString(), Is.EqualTo(await Sandbox.GitAsync(token, "rev-parse", "main")));
        Assert.That(rollbackJson.GetProperty("started").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { "db" }));
        Assert.That(rollbackJson.GetProperty("reloaded").GetInt32(), Is.EqualTo(1));

        var (history, historyJson) = await JsonAsync(token, "history");
        Assert.That(history.ExitCode, Is.Zero, history.ToString);
        var records = historyJson.GetProperty("records").EnumerateArray().ToList();
        Assert.That(records.Select(r => r.GetProperty("commit").GetString()), Does.Contain(first).And.Contain(second));
        Assert.That(records.Select(r => r.GetProperty("result").GetString()), Has.All.Not.Empty);

        var other = Path.Combine(Sandbox.Root, "other");
        var (init, initJson) = await JsonAsync(token, "init", "--repo", other);
        Assert.That(init.ExitCode, Is.Zero, init.ToString);
        Assert.That(initJson.ToString(), Is.EqualTo($$"""{"repository":"{{other}}","branch":"main"}"""));
        Assert.That(Directory.Exists(Path.Combine(other, ".git")), Is.True);
    }

    [Test]
    public async Task Each_error_code_comes_from_its_real_condition_with_the_exit_code_unchanged(CancellationToken token)
    {
        await StartWithAsync(token, "web");
        _ = await Sandbox.ClientAsync(token, "stop", "web");

        async Task<string> CodeOf(int exitCode, params string[] args)
        {
            var run = await Sandbox.ClientAsync(token, [.. args, "--json"]);
            return ErrorCode(run, Parse(run), exitCode);
        }

        Assert.That(await CodeOf(1, "status", "nope"), Is.EqualTo("service_not_found"));
        Assert.That(await CodeOf(1, "stop", "web"), Is.EqualTo("not_running"));
        Assert.That(await CodeOf(1, "rollback", "0123456789abcdef"), Is.EqualTo("commit_not_found"));
        Assert.That(await CodeOf(1, "start", "bad/name"), Is.EqualTo("invalid_request"));
        Assert.That(await CodeOf(2, "status"), Is.EqualTo("usage"), "a missing argument");
        Assert.That(await CodeOf(2, "frobnicate"), Is.EqualTo("usage"), "an unknown command");
        Assert.That(await CodeOf(2, "history", "-n", "-3"), Is.EqualTo("usage"), "a validator's error");

        Assert.That((await Sandbox.ClientAsync(token, "start", "web")).ExitCode, Is.Zero);
        Assert.That(await CodeOf(1, "start", "web"), Is.EqualTo("already_running"));

        // Without --json nothing changed: the line on stderr, nothing on stdout.
        var text = await Sandbox.ClientAsync(token, "start", "web");
        Assert.That((text.ExitCode, text.Stdout, text.Stderr), Is.EqualTo((1, "", "Error: Service already running: web\n")));

        var unreachable = await Sandbox.CliAsync(["--socket", Path.Combine(Sandbox.Root, "none.sock"), "list", "--json"], cancellationToken: token);
        Assert.That(ErrorCode(unreachable, Parse(unreachable)), Is.EqualTo("daemon_unreachable"));

        var exists = await Sandbox.CliAsync(["init", "--repo", Sandbox.Repo, "--json"], cancellationToken: token);
        Assert.That(ErrorCode(exists, Parse(exists)), Is.EqualTo("repository_exists"));

        // A second daemon on the same state: its log lines are JSON too with --json, and the error object comes last.
        var second = await Sandbox.CliAsync([.. Sandbox.DaemonArguments, "--json"], cancellationToken: token);
        Assert.That(second.ExitCode, Is.EqualTo(1), second.ToString);
        var objects = second.Lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.That(objects.Select(o => o.ValueKind), Has.All.EqualTo(JsonValueKind.Object), second.ToString);
        Assert.That(objects[^1].GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("lock_held"), second.ToString);
        Assert.That(second.Stderr, Does.StartWith("Error: ").And.Contain(Sandbox.DaemonPid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task A_plan_that_would_be_rejected_prints_its_object_and_exits_1(CancellationToken token)
    {
        await StartWithAsync(token, "web");
        Sandbox.WriteUnit("bad", "[Service]\nRestart=always\n");
        var broken = await Sandbox.CommitAsync("no ExecStart", token);

        var (plan, json) = await JsonAsync(token, "plan", broken);

        Assert.That(plan.ExitCode, Is.EqualTo(1), "as without --json (CONTRACT §6)");
        Assert.That(json.GetProperty("commit").GetString(), Is.EqualTo(broken));
        Assert.That(json.GetProperty("errors").EnumerateArray().Select(e => e.GetString()), Has.Some.Contain("bad.service"));
    }

    [Test]
    public async Task Logs_follow_json_prints_one_object_per_line_as_lines_arrive(CancellationToken token)
    {
        await StartWithAsync(token, "web");
        using var follow = Sandbox.StartClient("logs", "web", "-f", "-n", "1", "--json");
        try
        {
            // The stored line first: following has begun.
            var stored = Line(await NextLineAsync(follow.StandardOutput, token));
            Assert.That(stored, Does.Match(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] hello from web$"));

            // A line written after it started arrives on its own, as its own object.
            var restart = await Sandbox.ClientAsync(token, "restart", "web");
            Assert.That(restart.ExitCode, Is.Zero, restart.ToString);
            var fresh = Line(await NextLineAsync(follow.StandardOutput, token));
            Assert.That(fresh, Does.Match(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] hello from web$"));
        }
        finally
        {
            _ = Interop.Processes.Kill(follow.Id, 2);
        }

        Assert.That(follow.WaitForExit(15_000), Is.True, "logs -f ends on SIGINT");
        Assert.That(follow.ExitCode, Is.Zero, await follow.StandardError.ReadToEndAsync(token));

        static string Line(string json)
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            Assert.That(root.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "service", "line" }), json);
            Assert.That(root.GetProperty("service").GetString(), Is.EqualTo("web"));
            return root.GetProperty("line").GetString()!;
        }
    }

    private static async Task<string> NextLineAsync(StreamReader reader, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(GitProcSandbox.Deadline);
        return await reader.ReadLineAsync(timeout.Token) ?? throw new AssertionException("logs -f ended before the line came");
    }
}
