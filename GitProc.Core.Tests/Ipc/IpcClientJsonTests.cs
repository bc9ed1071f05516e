using System.Buffers;
using System.Text.Json;
using GitProc.Ipc;

namespace GitProc.Core.Tests.Ipc;

/// <summary>The client's hand-written JSON must agree with the server's source-generated serialization, key for key.</summary>
public class IpcClientJsonTests
{
    private static JsonElement Serialize<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        using var document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
        return document.RootElement.Clone();
    }

    [Test]
    public void Requests_written_by_the_client_are_read_back_by_the_server()
    {
        var requests = new[]
        {
            new IpcRequest { Command = "list" },
            new IpcRequest { Command = "status", Service = "web" },
            new IpcRequest { Command = "logs", Service = "web", Args = new IpcRequestArgs { Lines = 5, Follow = true } },
            new IpcRequest { Command = "rollback", Args = new IpcRequestArgs { Commit = "abc\"123" } },
            new IpcRequest { Command = "plan", Args = new IpcRequestArgs { Commit = "next", Host = "db-1", MachineId = "0123456789abcdef0123456789abcdef" } },
        };

        foreach (var request in requests)
        {
            var buffer = new ArrayBufferWriter<byte>();
            IpcClientJson.WriteRequest(buffer, request);
            var read = JsonSerializer.Deserialize(buffer.WrittenSpan, IpcJsonContext.Default.IpcRequest);
            Assert.That(read, Is.EqualTo(request));
        }
    }

    [Test]
    public void Every_result_serialized_by_the_server_is_read_back_by_the_client()
    {
        var status = new IpcStatusResult
        {
            Service = "web", State = "failed", Pid = null, StartTime = new DateTimeOffset(2024, 10, 25, 14, 30, 15, TimeSpan.FromHours(2)),
            RestartCount = 4, LastExitCode = 137, SubState = "start-limit-hit", Description = "Web ✓", ManuallyStopped = true,
            FailureReason = "crash loop", LastExit = "killed by signal 9", UnmetCondition = "ConditionHost=db-* is not met on host web-1",
            Warnings = ["web.service:5: ProtectSystem: not used", "web.service: Service 'web' has After=network.target"],
        };
        var list = new IpcListResult { Services = [new IpcListEntry { Name = "a", Status = "running", Pid = 1 }, new IpcListEntry { Name = "b", Status = "failed", LastExitCode = 2 }, new IpcListEntry { Name = "c", Status = "stopped", SubState = "condition" }] };
        var plan = new IpcPlanResult
        {
            Commit = "c", Host = "db-1", Actions = [new IpcPlannedAction { Service = "web", Action = "unchanged", Reason = "ConditionHost=web-* is not met on host db-1" }],
        };
        var sync = new IpcSyncResult
        {
            Commit = "c", Branch = "main", Repository = "/srv/units", Reloaded = 3, Started = ["x"], Restarted = ["y"], Stopped = ["z"],
            Warnings = ["x.service:2: Foo: not used"],
        };
        var rollback = new IpcRollbackResult { RestoredCommit = "r", Commit = "n", Reloaded = 1, Started = [], Restarted = ["y"], Stopped = [] };

        Assert.Multiple(() =>
        {
            var readStatus = IpcClientJson.ReadStatus(Serialize(status, IpcJsonContext.Default.IpcStatusResult));
            Assert.That(readStatus with { Warnings = status.Warnings }, Is.EqualTo(status));
            Assert.That(readStatus.Warnings, Is.EqualTo(status.Warnings));
            Assert.That(IpcClientJson.ReadStart(Serialize(new IpcStartResult { Pid = 5, Service = "s" }, IpcJsonContext.Default.IpcStartResult)),
                Is.EqualTo(new IpcStartResult { Pid = 5, Service = "s" }));
            Assert.That(IpcClientJson.ReadStop(Serialize(new IpcStopResult { Service = "s" }, IpcJsonContext.Default.IpcStopResult)),
                Is.EqualTo(new IpcStopResult { Service = "s" }));
            Assert.That(IpcClientJson.ReadLogs(Serialize(new IpcLogsResult { Logs = "a\nb\n" }, IpcJsonContext.Default.IpcLogsResult)).Logs, Is.EqualTo("a\nb\n"));
            Assert.That(IpcClientJson.ReadList(Serialize(list, IpcJsonContext.Default.IpcListResult)).Services, Is.EqualTo(list.Services));
            var readPlan = IpcClientJson.ReadPlan(Serialize(plan, IpcJsonContext.Default.IpcPlanResult));
            var action = readPlan.Actions.Single();
            Assert.That((readPlan.Commit, readPlan.Host, action.Service, action.Action, action.Reason), Is.EqualTo((plan.Commit, plan.Host, "web", "unchanged", plan.Actions[0].Reason)));
            var readSync = IpcClientJson.ReadSync(Serialize(sync, IpcJsonContext.Default.IpcSyncResult));
            Assert.That((readSync.Commit, readSync.Branch, readSync.Repository, readSync.Reloaded, readSync.Started, readSync.Restarted, readSync.Stopped, readSync.Warnings),
                Is.EqualTo((sync.Commit, sync.Branch, sync.Repository, sync.Reloaded, sync.Started, sync.Restarted, sync.Stopped, sync.Warnings)));
            var readRollback = IpcClientJson.ReadRollback(Serialize(rollback, IpcJsonContext.Default.IpcRollbackResult));
            Assert.That((readRollback.RestoredCommit, readRollback.Commit, readRollback.Reloaded, readRollback.Restarted),
                Is.EqualTo((rollback.RestoredCommit, rollback.Commit, rollback.Reloaded, rollback.Restarted)));
        });
    }

    [TestCase("""{"status":"success","data":{"pid":1}}""", "success", true, null)]
    [TestCase("""{"status":"error","error":"Service not found: web"}""", "error", false, "Service not found: web")]
    public void Responses_are_parsed(string line, string status, bool hasData, string? error)
    {
        var response = IpcClientJson.ParseResponse(System.Text.Encoding.UTF8.GetBytes(line));

        Assert.That(response.Status, Is.EqualTo(status));
        Assert.That(response.Data.HasValue, Is.EqualTo(hasData));
        Assert.That(response.Error, Is.EqualTo(error));
    }

    [TestCase("[]")]
    [TestCase("""{"data":{}}""")]
    [TestCase("{oops")]
    public void A_malformed_response_is_a_JsonException(string line) =>
        Assert.That(() => IpcClientJson.ParseResponse(System.Text.Encoding.UTF8.GetBytes(line)), Throws.InstanceOf<JsonException>());
}
