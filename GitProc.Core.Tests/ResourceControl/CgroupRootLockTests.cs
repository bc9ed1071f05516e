using System.Runtime.Versioning;
using GitProc.Locking;
using GitProc.ResourceControl;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.ResourceControl;

/// <summary>One daemon per cgroup root (CONTRACT §9): the resource controller locks its root before any service cgroup.</summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class CgroupRootLockTests
{
    [Test]
    public async Task A_second_controller_on_the_same_root_is_refused_naming_the_holder_the_root_and_the_setting()
    {
        using var fs = FakeCgroupFs.V1();
        await using var first = fs.CreateController();
        first.ClaimRoot();
        await using var second = fs.CreateController();

        var error = Assert.Throws<LockHeldException>(second.ClaimRoot);

        var root = fs.PathOf("memory/gitproc");
        Assert.That(first.Status.Enforced, Is.True);
        Assert.That(first.RootLock?.Path, Is.EqualTo(root));
        Assert.That(error!.Message, Is.EqualTo(
            $"Another gitproc daemon (PID {Environment.ProcessId}) owns the cgroup root {root}; stop it first, or set ResourceControl:CgroupRoot to another cgroup for a second daemon."));
        Assert.That((error.Path, error.HolderPid), Is.EqualTo((root, (int?)Environment.ProcessId)));

        // An embedding application's services would still run, without cgroups, and say why.
        Assert.That(second.Status.Enforced, Is.False);
        Assert.That(second.Status.Reason, Is.EqualTo(error.Message));
        Assert.That(await second.CreateAsync("web", new ResourceLimits(null, null, null)), Is.Null);
    }

    [Test]
    public async Task Another_root_on_the_same_hierarchy_is_not_in_the_way_and_a_released_root_can_be_claimed()
    {
        using var fs = FakeCgroupFs.V1();
        var first = fs.CreateController();
        first.ClaimRoot();
        await using var other = fs.CreateController(root: "gitproc-second");
        other.ClaimRoot();
        Assert.That(other.Status.Enforced, Is.True);

        await first.DisposeAsync();
        await using var third = fs.CreateController();
        third.ClaimRoot();

        Assert.That(third.Status.Enforced, Is.True);
    }

    [Test]
    public async Task The_unified_root_is_locked_on_cgroup_v2()
    {
        using var fs = FakeCgroupFs.V2();
        await using var first = fs.CreateController();
        first.ClaimRoot();
        await using var second = fs.CreateController();

        var error = Assert.Throws<LockHeldException>(second.ClaimRoot);

        Assert.That(error!.Path, Is.EqualTo(fs.PathOf("gitproc")));
    }

    [Test]
    public async Task On_this_host_a_real_cgroup_root_is_locked_and_removed_again_on_disposal()
    {
        if (!Environment.IsPrivilegedProcess || !Directory.Exists("/sys/fs/cgroup/memory"))
        {
            Assert.Ignore("Needs root and the cgroup v1 memory hierarchy.");
        }

        var root = "gitproc-rootlock-" + Guid.NewGuid().ToString("N")[..8];
        ResourceController Create() => new(
            Options.Create(new GitProcOptions { ResourceControl = { CgroupRoot = root } }),
            TimeProvider.System,
            new FakeLogger<ResourceController>());

        var first = Create();
        await using (var second = Create())
        {
            first.ClaimRoot();
            Assert.That(first.Status.Enforced, Is.True, first.Status.Reason);
            var error = Assert.Throws<LockHeldException>(second.ClaimRoot);
            Assert.That(error!.HolderPid, Is.EqualTo(Environment.ProcessId));
            Assert.That(error.Path, Does.StartWith("/sys/fs/cgroup/").And.EndWith("/" + root));
        }

        await first.DisposeAsync();
        Assert.That(Directory.Exists(Path.Combine("/sys/fs/cgroup/memory", root)), Is.False);
    }

    [Test]
    public void Where_a_root_cannot_be_locked_a_shared_lock_file_named_after_it_stands_in()
    {
        var standIn = CgroupRootLock.StandInPath("/sys/fs/cgroup/memory/a/b");

        Assert.That(Path.GetFileName(standIn), Is.EqualTo("gitproc-cgroup-sys-fs-cgroup-memory-a-b.lock"));
        Assert.That(Path.GetDirectoryName(standIn), Is.EqualTo(Directory.Exists("/run/lock") ? "/run/lock" : Path.GetTempPath().TrimEnd('/')));
    }
}
