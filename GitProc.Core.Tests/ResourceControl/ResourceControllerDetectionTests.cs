using System.Runtime.Versioning;
using GitProc.ResourceControl;
using GitProc.UnitFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.ResourceControl;

/// <summary>Which backend the controller picks, and what it does where cgroups cannot be used.</summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class ResourceControllerDetectionTests
{
    [Test]
    public async Task An_empty_mount_point_means_limits_are_not_enforced_and_services_get_no_cgroup()
    {
        using var fs = new FakeCgroupFs();
        var logger = new FakeLogger<ResourceController>();
        await using var controller = fs.CreateController(logger);

        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.None));
        Assert.That(controller.Status.Enforced, Is.False);
        Assert.That(controller.Status.Reason, Does.Contain(fs.Mount).And.EndWith("limits are not enforced"));
        Assert.That(controller.Status.RootDirectories, Is.Empty);
        Assert.That(await controller.CreateAsync("web", new ResourceLimits(1024, null, null)), Is.Null);
        Assert.That(logger.Collector.GetSnapshot().Count(e => e.Id.Id == 701), Is.EqualTo(1), "the host's state is logged once");
    }

    [Test]
    public async Task Requested_limits_that_cannot_be_enforced_are_logged_once_per_service()
    {
        using var fs = new FakeCgroupFs();
        var logger = new FakeLogger<ResourceController>();
        await using var controller = fs.CreateController(logger);

        await controller.CreateAsync("web", new ResourceLimits(1024, 50, null));
        await controller.CreateAsync("web", new ResourceLimits(1024, 50, null));
        await controller.CreateAsync("db", new ResourceLimits(null, null, 10));
        await controller.CreateAsync("plain", ResourceLimits.None);

        var warnings = logger.Collector.GetSnapshot().Where(e => e.Id.Id == 702).Select(e => e.Message).ToList();
        Assert.That(warnings, Has.Count.EqualTo(2));
        Assert.That(warnings[0], Does.Contain("web").And.Contain("MemoryMax=1024 CPUQuota=50%").And.Contain("limits are not enforced"));
        Assert.That(warnings[1], Does.Contain("db").And.Contain("TasksMax=10"));
    }

    [Test]
    public async Task Disabled_resource_control_says_so()
    {
        using var fs = FakeCgroupFs.V2();
        await using var controller = fs.CreateController(enabled: false);

        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.None));
        Assert.That(controller.Status.Reason, Does.Contain("ResourceControl.Enabled is false"));
        Assert.That(Directory.Exists(fs.PathOf("gitproc")), Is.False);
    }

    [Test]
    public async Task A_missing_mount_point_means_limits_are_not_enforced()
    {
        using var fs = new FakeCgroupFs();
        var controller = new ResourceController(
            Options.Create(new GitProcOptions { ResourceControl = { CgroupMountPoint = fs.PathOf("nowhere") } }),
            TimeProvider.System,
            new FakeLogger<ResourceController>());
        await using var disposeController = controller;

        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.None));
        Assert.That(controller.Status.Reason, Does.Contain("no cgroup file system at"));
    }

    [Test]
    public async Task A_unified_hierarchy_without_the_pids_controller_and_no_v1_is_not_used()
    {
        using var fs = FakeCgroupFs.V2("cpu io memory");
        await using var controller = fs.CreateController();

        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.None));
        Assert.That(controller.Status.Reason, Does.Contain("lacks the pids controller"));
        Assert.That(fs.Read("cgroup.subtree_control"), Is.Empty);
    }

    [Test]
    public async Task A_root_cgroup_that_cannot_be_created_means_limits_are_not_enforced()
    {
        using var fs = FakeCgroupFs.V1();
        fs.Write("pids/gitproc", "a file where the root cgroup should go");
        await using var controller = fs.CreateController();

        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.None));
        Assert.That(controller.Status.Reason, Does.StartWith("cgroups not writable").And.EndWith("limits are not enforced"));
        Assert.That(Directory.Exists(fs.PathOf("memory/gitproc")), Is.False, "what was created before the failure is removed");
        Assert.That(await controller.CreateAsync("web", ResourceLimits.None), Is.Null);
    }

    [Test]
    public async Task Detection_picks_v1_for_a_v1_layout_and_joins_cpu_and_cpuacct_once_when_they_share_a_hierarchy()
    {
        using var fs = FakeCgroupFs.V1();
        await using var controller = fs.CreateController();

        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.V1));
        Assert.That(controller.Status.RootDirectories, Is.EqualTo(new[] { fs.PathOf("memory/gitproc"), fs.PathOf("cpu/gitproc"), fs.PathOf("pids/gitproc") }));

        await using var cgroup = (await controller.CreateAsync("web", new ResourceLimits(1048576, 20, 10)))!;

        Assert.That(cgroup.ProcsFiles, Is.EqualTo(new[]
        {
            fs.PathOf("memory/gitproc/web/cgroup.procs"),
            fs.PathOf("cpu/gitproc/web/cgroup.procs"),
            fs.PathOf("pids/gitproc/web/cgroup.procs"),
        }));
        Assert.That(fs.FilesIn("memory/gitproc/web"), Is.EqualTo(new[] { "memory.limit_in_bytes" }));
        Assert.That(fs.FilesIn("cpu,cpuacct/gitproc/web"), Is.EqualTo(new[] { "cpu.cfs_period_us", "cpu.cfs_quota_us" }));
        Assert.That(fs.FilesIn("pids/gitproc/web"), Is.EqualTo(new[] { "pids.max" }));
        Assert.That(fs.Read("memory/gitproc/web/memory.limit_in_bytes"), Is.EqualTo("1048576"));
        Assert.That(fs.Read("cpu/gitproc/web/cpu.cfs_period_us"), Is.EqualTo("100000"));
        Assert.That(fs.Read("cpu/gitproc/web/cpu.cfs_quota_us"), Is.EqualTo("20000"));
        Assert.That(fs.Read("pids/gitproc/web/pids.max"), Is.EqualTo("10"));

        await cgroup.UpdateLimitsAsync(ResourceLimits.None);

        Assert.That(fs.Read("memory/gitproc/web/memory.limit_in_bytes"), Is.EqualTo("-1"));
        Assert.That(fs.Read("cpu/gitproc/web/cpu.cfs_quota_us"), Is.EqualTo("-1"));
        Assert.That(fs.Read("pids/gitproc/web/pids.max"), Is.EqualTo("max"));
    }

    [Test]
    public async Task Detection_picks_v1_on_a_hybrid_host()
    {
        if (File.Exists("/sys/fs/cgroup/cgroup.controllers") || !Directory.Exists("/sys/fs/cgroup/memory"))
        {
            Assert.Ignore("this host is not a cgroup v1 hybrid");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: creates a root cgroup under /sys/fs/cgroup");
        }

        var root = "gitproc-test-" + Guid.NewGuid().ToString("N")[..12];
        await using var controller = HostController(root);

        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.V1), controller.Status.Reason);
        Assert.That(controller.Status.RootDirectories, Does.Contain($"/sys/fs/cgroup/memory/{root}"));
        await controller.DisposeAsync();
        Assert.That(Directory.Exists($"/sys/fs/cgroup/memory/{root}"), Is.False);
    }

    [Test]
    public async Task Detection_picks_v2_on_a_host_whose_unified_hierarchy_has_the_controllers()
    {
        var controllers = File.Exists("/sys/fs/cgroup/cgroup.controllers") ? File.ReadAllText("/sys/fs/cgroup/cgroup.controllers") : string.Empty;
        if (!(controllers.Contains("memory", StringComparison.Ordinal) && controllers.Contains("cpu", StringComparison.Ordinal) && controllers.Contains("pids", StringComparison.Ordinal)))
        {
            Assert.Ignore("this host's unified hierarchy lacks the memory, cpu or pids controller (the fake-cgroupfs tests cover v2 here)");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: creates a root cgroup under /sys/fs/cgroup");
        }

        var root = "gitproc-test-" + Guid.NewGuid().ToString("N")[..12];
        await using var controller = HostController(root);

        // A container whose own cgroup holds processes cannot delegate controllers: then no backend, with the reason.
        Assert.That(controller.Status.Backend, Is.EqualTo(ResourceControlBackend.V2).Or.EqualTo(ResourceControlBackend.None), controller.Status.Reason);
        Assert.That(controller.Status.Backend, Is.Not.EqualTo(ResourceControlBackend.V1));
    }

    [Test]
    public void Invalid_service_names_are_refused()
    {
        using var fs = FakeCgroupFs.V2();
        var controller = fs.CreateController();

        Assert.ThrowsAsync<ArgumentException>(() => controller.CreateAsync("../escape", ResourceLimits.None));
        Assert.ThrowsAsync<ArgumentException>(() => controller.CreateAsync(".hidden", ResourceLimits.None));
        Assert.ThrowsAsync<ArgumentException>(() => controller.CreateAsync(string.Empty, ResourceLimits.None));
        Assert.That(ResourceController.IsValidName("web@1:a_b.c-d"), Is.True);
    }

    [Test]
    public void Limits_come_from_the_unit()
    {
        var unit = new UnitFile { Name = "web", FileName = "web.service", MemoryLimit = 1024, CpuQuota = 150, TasksMax = 64 };

        Assert.That(ResourceLimits.From(unit), Is.EqualTo(new ResourceLimits(1024, 150, 64)));
        Assert.That(ResourceLimits.From(unit with { MemoryLimit = null, CpuQuota = null, TasksMax = null }).HasAny, Is.False);
    }

    [Test]
    public async Task AddGitProc_registers_the_controller_and_keeps_one_registered_first()
    {
        await using (var provider = WithNullLogging(new ServiceCollection()).AddGitProc().BuildServiceProvider())
        {
            Assert.That(provider.GetRequiredService<IResourceController>(), Is.InstanceOf<ResourceController>());
        }

        var mine = new Moq.Mock<IResourceController>().Object;
        await using var replaced = WithNullLogging(new ServiceCollection().AddSingleton(mine)).AddGitProc().BuildServiceProvider();
        Assert.That(replaced.GetRequiredService<IResourceController>(), Is.SameAs(mine));
    }

    private static IServiceCollection WithNullLogging(IServiceCollection services) =>
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));

    private static ResourceController HostController(string root) =>
        new(
            Options.Create(new GitProcOptions { ResourceControl = { CgroupRoot = root } }),
            TimeProvider.System,
            new FakeLogger<ResourceController>());
}
