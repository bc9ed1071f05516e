using System.Runtime.Versioning;
using GitProc.ResourceControl;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.ResourceControl;

/// <summary>
/// The cgroup v2 backend against a temporary directory laid out like cgroupfs (these machines are v1 hybrids):
/// every file written is checked, and usage is read from files the test places. The host tests run the same
/// backend for real where the unified hierarchy has the controllers.
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class ResourceControllerV2Tests
{
    // Above the kernel's largest pid_max (2^22), so no real process is ever signalled by these tests.
    private const int NoSuchPid = 4_194_305;

    private FakeCgroupFs _fs = null!;

    [SetUp]
    public void SetUp() => _fs = FakeCgroupFs.V2();

    [TearDown]
    public void TearDown() => _fs.Dispose();

    [Test]
    public async Task Detection_picks_v2_and_delegates_the_controllers_to_the_root_cgroup()
    {
        await using var controller = _fs.CreateController();

        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.V2));
        Assert.That(controller.Status.Enforced, Is.True);
        Assert.That(controller.Status.Reason, Is.Null);
        Assert.That(controller.Status.RootDirectories, Is.EqualTo(new[] { _fs.PathOf("gitproc") }));
        Assert.That(_fs.Read("cgroup.subtree_control"), Is.EqualTo("+memory +cpu +pids"));
        Assert.That(_fs.Read("gitproc/cgroup.subtree_control"), Is.EqualTo("+memory +cpu +pids"));
        Assert.That(_fs.FilesIn("gitproc"), Is.EqualTo(new[] { "cgroup.subtree_control" }), "the root holds no process and nothing else");
    }

    [Test]
    public async Task Controllers_already_enabled_are_not_written_again()
    {
        _fs.Write("cgroup.subtree_control", "cpu memory pids\n");

        await using var controller = _fs.CreateController();

        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.V2));
        Assert.That(_fs.Read("cgroup.subtree_control"), Is.EqualTo("cpu memory pids\n"));
    }

    [Test]
    public async Task A_nested_root_gets_the_controllers_at_every_level()
    {
        await using (var controller = _fs.CreateController(root: "apps/gitproc"))
        {
            Assert.That(controller.Status.RootDirectories, Is.EqualTo(new[] { _fs.PathOf("apps/gitproc") }));
            Assert.That(_fs.Read("cgroup.subtree_control"), Is.EqualTo("+memory +cpu +pids"));
            Assert.That(_fs.Read("apps/cgroup.subtree_control"), Is.EqualTo("+memory +cpu +pids"));
            Assert.That(_fs.Read("apps/gitproc/cgroup.subtree_control"), Is.EqualTo("+memory +cpu +pids"));
        }

        Assert.That(Directory.Exists(_fs.PathOf("apps")), Is.False, "disposal removes the root it created");
    }

    [Test]
    public async Task Create_writes_memory_max_cpu_max_and_pids_max_in_the_service_cgroup()
    {
        await using var controller = _fs.CreateController();

        await using var cgroup = await controller.CreateAsync("web", new ResourceLimits(50L * 1024 * 1024, 20, 10));

        Assert.That(cgroup, Is.Not.Null);
        Assert.That(cgroup!.Backend, Is.EqualTo(ResourceControlBackend.V2));
        Assert.That(cgroup.Service, Is.EqualTo("web"));
        Assert.That(cgroup.Directories, Is.EqualTo(new[] { _fs.PathOf("gitproc/web") }));
        Assert.That(cgroup.ProcsFiles, Is.EqualTo(new[] { _fs.PathOf("gitproc/web/cgroup.procs") }));
        Assert.That(_fs.FilesIn("gitproc/web"), Is.EqualTo(new[] { "cpu.max", "memory.max", "pids.max" }));
        Assert.That(_fs.Read("gitproc/web/memory.max"), Is.EqualTo("52428800"));
        Assert.That(_fs.Read("gitproc/web/cpu.max"), Is.EqualTo("20000 100000"));
        Assert.That(_fs.Read("gitproc/web/pids.max"), Is.EqualTo("10"));
    }

    [Test]
    public async Task Unset_limits_are_written_as_max_and_updates_rewrite_them()
    {
        await using var controller = _fs.CreateController();
        await using var cgroup = (await controller.CreateAsync("web", ResourceLimits.None))!;

        Assert.That(_fs.Read("gitproc/web/memory.max"), Is.EqualTo("max"));
        Assert.That(_fs.Read("gitproc/web/cpu.max"), Is.EqualTo("max 100000"));
        Assert.That(_fs.Read("gitproc/web/pids.max"), Is.EqualTo("max"));

        await cgroup.UpdateLimitsAsync(new ResourceLimits(1024, 250, null));

        Assert.That(_fs.Read("gitproc/web/memory.max"), Is.EqualTo("1024"));
        Assert.That(_fs.Read("gitproc/web/cpu.max"), Is.EqualTo("250000 100000"));
        Assert.That(_fs.Read("gitproc/web/pids.max"), Is.EqualTo("max"));
        Assert.That(cgroup.Limits, Is.EqualTo(new ResourceLimits(1024, 250, null)));
    }

    [Test]
    public async Task Usage_is_read_from_memory_current_cpu_stat_and_pids_current()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var controller = _fs.CreateController(timeProvider: time);
        await using var cgroup = (await controller.CreateAsync("web", ResourceLimits.None))!;
        _fs.Write("gitproc/web/memory.current", "7340032\n");
        _fs.Write("gitproc/web/cpu.stat", "usage_usec 1000000\nuser_usec 600000\nsystem_usec 400000\n");
        _fs.Write("gitproc/web/pids.current", "3\n");

        time.Advance(TimeSpan.FromSeconds(4));
        var first = await cgroup.GetUsageAsync();
        _fs.Write("gitproc/web/cpu.stat", "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n");
        time.Advance(TimeSpan.FromSeconds(2));
        var second = await cgroup.GetUsageAsync();

        Assert.That(first.MemoryBytes, Is.EqualTo(7340032));
        Assert.That(first.TaskCount, Is.EqualTo(3));
        Assert.That(first.CpuTime, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(first.CpuPercent, Is.EqualTo(25).Within(0.001), "1 s of CPU in the 4 s since creation");
        Assert.That(second.CpuTime, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(second.CpuPercent, Is.EqualTo(100).Within(0.001), "2 s of CPU in the 2 s since the previous reading");
    }

    [Test]
    public async Task The_OOM_kill_count_comes_from_memory_events()
    {
        await using var controller = _fs.CreateController();
        await using var cgroup = (await controller.CreateAsync("web", ResourceLimits.None))!;

        Assert.That(await cgroup.GetOomKillCountAsync(), Is.Zero);

        _fs.Write("gitproc/web/memory.events", "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n");

        Assert.That(await cgroup.GetOomKillCountAsync(), Is.EqualTo(2));
    }

    [Test]
    public async Task Pids_are_read_from_cgroup_procs()
    {
        await using var controller = _fs.CreateController();
        await using var cgroup = (await controller.CreateAsync("web", ResourceLimits.None))!;
        _fs.Write("gitproc/web/cgroup.procs", $"{NoSuchPid + 1}\n{NoSuchPid}\n");

        Assert.That(await cgroup.GetPidsAsync(), Is.EqualTo(new[] { NoSuchPid, NoSuchPid + 1 }));

        _fs.Write("gitproc/web/cgroup.procs", string.Empty);
    }

    [Test]
    public async Task KillAll_with_SIGKILL_writes_1_to_cgroup_kill()
    {
        await using var controller = _fs.CreateController();
        await using var cgroup = (await controller.CreateAsync("web", ResourceLimits.None))!;
        _fs.Write("gitproc/web/cgroup.kill", string.Empty);

        await cgroup.KillAllAsync(9);

        Assert.That(_fs.Read("gitproc/web/cgroup.kill"), Is.EqualTo("1"));
    }

    [Test]
    public async Task KillAll_with_another_signal_leaves_cgroup_kill_alone()
    {
        await using var controller = _fs.CreateController();
        await using var cgroup = (await controller.CreateAsync("web", ResourceLimits.None))!;
        _fs.Write("gitproc/web/cgroup.kill", string.Empty);
        _fs.Write("gitproc/web/cgroup.procs", $"{NoSuchPid}\n");

        await cgroup.KillAllAsync(15);

        Assert.That(_fs.Read("gitproc/web/cgroup.kill"), Is.Empty);
        _fs.Write("gitproc/web/cgroup.procs", string.Empty);
    }

    [Test]
    public async Task Remove_deletes_the_service_cgroup_once_and_disposal_of_the_controller_deletes_the_root()
    {
        var controller = _fs.CreateController();
        var cgroup = (await controller.CreateAsync("web", new ResourceLimits(1024, null, null)))!;

        await cgroup.RemoveAsync();
        await cgroup.RemoveAsync();
        await cgroup.DisposeAsync();
        await cgroup.DisposeAsync();
        await cgroup.RemoveAsync();

        Assert.That(Directory.Exists(_fs.PathOf("gitproc/web")), Is.False);
        Assert.That(await cgroup.GetPidsAsync(), Is.Empty);
        Assert.That((await cgroup.GetUsageAsync()).MemoryBytes, Is.Null);

        await controller.DisposeAsync();

        Assert.That(Directory.Exists(_fs.PathOf("gitproc")), Is.False);
        Assert.That(_fs.FilesIn("."), Is.EqualTo(new[] { "cgroup.controllers", "cgroup.procs", "cgroup.subtree_control" }));
    }

    [Test]
    public async Task AddProcess_writes_the_pid_into_the_service_cgroup_procs_file()
    {
        await using var controller = _fs.CreateController();
        await using var cgroup = await controller.CreateAsync("web", ResourceLimits.None);

        await cgroup!.AddProcessAsync(NoSuchPid);

        Assert.That(_fs.Read("gitproc/web/cgroup.procs"), Is.EqualTo("4194305"));

        // The fake kernel never lets the pid go: empty the file so the removal finds nothing to kill.
        _fs.Write("gitproc/web/cgroup.procs", string.Empty);
    }

    [Test]
    public async Task A_limit_that_cannot_be_written_is_an_error_naming_the_file_and_value()
    {
        await using var controller = _fs.CreateController();
        Directory.CreateDirectory(_fs.PathOf("gitproc/web/memory.max"));

        var error = Assert.ThrowsAsync<ResourceControlException>(
            () => controller.CreateAsync("web", new ResourceLimits(104857600, null, null)));

        Assert.That(error!.Message, Does.StartWith($"Cannot set memory limit: writing '104857600' to {_fs.PathOf("gitproc/web/memory.max")} failed: "));
        Assert.That(error.Service, Is.EqualTo("web"));
        Assert.That(error.Path, Is.EqualTo(_fs.PathOf("gitproc/web/memory.max")));
    }
}
