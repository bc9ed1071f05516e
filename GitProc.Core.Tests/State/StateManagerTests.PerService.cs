using GitProc.State;

namespace GitProc.Core.Tests.State;

/// <summary>The state file one service at a time: register, get, update status, get all.</summary>
public sealed partial class StateManagerTests
{
    private static readonly ServiceRecord WebServer = new()
    {
        Name = "web-server",
        Status = ServiceStatus.Running,
        Pid = 12345,
        ProcessStartTicks = 777,
        StartTime = Now,
        RestartCount = 2,
    };

    [Test]
    public async Task A_registered_service_is_read_back_by_the_same_manager_and_by_a_new_one()
    {
        var manager = CreateManager();

        await manager.RegisterServiceAsync(WebServer);

        Assert.That(await manager.GetServiceAsync("web-server"), Is.EqualTo(WebServer));
        Assert.That(await CreateManager().GetServiceAsync("web-server"), Is.EqualTo(WebServer), "read from the file");
    }

    [Test]
    public async Task Registering_a_name_again_replaces_what_was_recorded()
    {
        var manager = CreateManager();
        await manager.RegisterServiceAsync(new ServiceRecord { Name = "web", Status = ServiceStatus.Running, Pid = 10, RestartCount = 4 });

        await manager.RegisterServiceAsync(new ServiceRecord { Name = "web", Status = ServiceStatus.Failed, LastExitCode = 3 });

        Assert.That(
            await CreateManager().GetServiceAsync("web"),
            Is.EqualTo(new ServiceRecord { Name = "web", Status = ServiceStatus.Failed, LastExitCode = 3 }));
    }

    [Test]
    public async Task A_status_and_exit_code_update_survives_a_reload_and_clears_the_stopped_process()
    {
        var manager = CreateManager();
        await manager.RegisterServiceAsync(WebServer with { UnitDigest = "digest", OutputPipe = "pipe:[42]" });

        var returned = await manager.UpdateStatusAsync("web-server", ServiceStatus.Stopped, exitCode: 0);

        var reloaded = (await CreateManager().LoadAsync()).Services["web-server"];
        Assert.That(reloaded, Is.EqualTo(returned));
        Assert.That(reloaded.Status, Is.EqualTo(ServiceStatus.Stopped));
        Assert.That(reloaded.LastExitCode, Is.Zero);
        Assert.That(reloaded.RestartCount, Is.EqualTo(2), "the rest is kept");
        Assert.That(reloaded.StartTime, Is.EqualTo(Now), "the rest is kept");
        Assert.That(reloaded.Pid, Is.Null, "a stopped service has no process to take over");
        Assert.That(reloaded.ProcessStartTicks, Is.Null);
        Assert.That(reloaded.UnitDigest, Is.Null);
        Assert.That(reloaded.OutputPipe, Is.Null);
    }

    [Test]
    public async Task An_update_without_an_exit_code_keeps_the_recorded_one_and_running_keeps_the_process()
    {
        var manager = CreateManager();
        await manager.RegisterServiceAsync(new ServiceRecord { Name = "api", Status = ServiceStatus.Failed, Pid = 99, ProcessStartTicks = 5, LastExitCode = 137 });

        await manager.UpdateStatusAsync("api", ServiceStatus.Running);

        var reloaded = await CreateManager().GetServiceAsync("api");
        Assert.That(reloaded, Is.EqualTo(new ServiceRecord { Name = "api", Status = ServiceStatus.Running, Pid = 99, ProcessStartTicks = 5, LastExitCode = 137 }));
    }

    [Test]
    public async Task Get_all_lists_every_recorded_service_by_name()
    {
        var manager = CreateManager();
        Assert.That(await manager.GetAllServicesAsync(), Is.Empty);
        Assert.That(File.Exists(_path), Is.False, "reading creates no file");

        await manager.RegisterServiceAsync(new ServiceRecord { Name = "database" });
        await manager.RegisterServiceAsync(new ServiceRecord { Name = "app", Status = ServiceStatus.Running, Pid = 7 });
        await manager.UpdateStatusAsync("database", ServiceStatus.Failed, 1);

        var all = await CreateManager().GetAllServicesAsync();
        Assert.That(all.Keys, Is.EquivalentTo(new[] { "database", "app" }));
        Assert.That(all["database"], Is.EqualTo(new ServiceRecord { Name = "database", Status = ServiceStatus.Failed, LastExitCode = 1 }));
        Assert.That(all["app"], Is.EqualTo(new ServiceRecord { Name = "app", Status = ServiceStatus.Running, Pid = 7 }));
    }

    [Test]
    public async Task An_unknown_service_reads_as_null_and_cannot_be_updated()
    {
        var manager = CreateManager();
        await manager.RegisterServiceAsync(new ServiceRecord { Name = "web" });
        var before = await File.ReadAllBytesAsync(_path);

        Assert.That(await manager.GetServiceAsync("worker"), Is.Null);
        var error = Assert.ThrowsAsync<KeyNotFoundException>(() => manager.UpdateStatusAsync("worker", ServiceStatus.Stopped, 0));

        Assert.That(error!.Message, Does.Contain("'worker'").And.Contain(_path));
        Assert.That(await File.ReadAllBytesAsync(_path), Is.EqualTo(before), "nothing is written");
    }

    [TestCase("")]
    [TestCase("../web")]
    [TestCase(".hidden")]
    public void An_invalid_name_is_refused_before_anything_is_written(string name)
    {
        var error = Assert.ThrowsAsync<ArgumentException>(() => CreateManager().RegisterServiceAsync(new ServiceRecord { Name = name }));

        Assert.That(error!.Message, Does.Contain($"'{name}'"));
        Assert.That(File.Exists(_path), Is.False);
    }

    [Test]
    public async Task A_per_service_change_keeps_the_rest_of_the_document()
    {
        var manager = CreateManager();
        var rejected = new RejectedCommit("fedcba9876543210fedcba9876543210fedcba98", "web.service", 3, "bad", Now);
        await manager.SaveAsync(new SupervisorState
        {
            AppliedCommit = "0123456789abcdef0123456789abcdef01234567",
            RejectedCommit = rejected,
            Services = new Dictionary<string, ServiceRecord> { ["web"] = new() { Name = "web", Status = ServiceStatus.Running, Pid = 5, ManuallyStopped = false } },
            AppliedUnits = [new UnitSnapshot("web.service", "[Service]\nExecStart=/bin/true\n")],
        });

        await manager.RegisterServiceAsync(new ServiceRecord { Name = "batch" });
        await manager.UpdateStatusAsync("batch", ServiceStatus.Failed, 2);

        var state = await CreateManager().LoadAsync();
        Assert.That(state.AppliedCommit, Is.EqualTo("0123456789abcdef0123456789abcdef01234567"));
        Assert.That(state.RejectedCommit, Is.EqualTo(rejected));
        Assert.That(state.AppliedUnits, Is.EqualTo(new[] { new UnitSnapshot("web.service", "[Service]\nExecStart=/bin/true\n") }));
        Assert.That(state.Services["web"], Is.EqualTo(new ServiceRecord { Name = "web", Status = ServiceStatus.Running, Pid = 5 }));
        Assert.That(state.Services["batch"].LastExitCode, Is.EqualTo(2));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Concurrent_changes_from_two_tasks_lose_neither(CancellationToken cancellationToken)
    {
        const int PerTask = 60;
        var manager = CreateManager();
        await manager.RegisterServiceAsync(new ServiceRecord { Name = "a" }, cancellationToken);
        await manager.RegisterServiceAsync(new ServiceRecord { Name = "b" }, cancellationToken);

        // Each task registers services of its own and updates its own service's exit code: a read-modify-write that
        // let the other task's write come between its read and its write would drop that task's last change.
        Task Changes(string prefix) => Task.Run(
            async () =>
            {
                for (var i = 1; i <= PerTask; i++)
                {
                    await manager.RegisterServiceAsync(new ServiceRecord { Name = $"{prefix}{i}" }, cancellationToken);
                    await manager.UpdateStatusAsync(prefix, ServiceStatus.Stopped, i, cancellationToken);
                }
            },
            cancellationToken);
        await Task.WhenAll(Changes("a"), Changes("b"));

        var all = await CreateManager().GetAllServicesAsync(cancellationToken);
        Assert.That(all, Has.Count.EqualTo(2 + (2 * PerTask)));
        Assert.That(all["a"].LastExitCode, Is.EqualTo(PerTask));
        Assert.That(all["b"].LastExitCode, Is.EqualTo(PerTask));
        Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName), Is.EqualTo(new[] { "state.json" }), "no temporary file is left");
    }

    [Test]
    public async Task A_change_to_an_unreadable_file_keeps_that_file_aside_and_starts_a_new_one()
    {
        await File.WriteAllTextAsync(_path, "{ not json");

        await CreateManager().RegisterServiceAsync(new ServiceRecord { Name = "web" });

        Assert.That(File.ReadAllText(Directory.GetFiles(_directory, "state.json.corrupt-*").Single()), Is.EqualTo("{ not json"));
        Assert.That((await CreateManager().GetAllServicesAsync()).Keys, Is.EqualTo(new[] { "web" }));
    }
}
