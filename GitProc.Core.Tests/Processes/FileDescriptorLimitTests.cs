using System.Runtime.Versioning;
using GitProc.Processes;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Processes;

/// <summary>The open-file limits of the daemon and its services (CONTRACT §9, LimitNOFILE in §2).</summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class FileDescriptorLimitTests
{
    private static readonly ProcessLimit Raised = new(20000, 20000);

    [Test]
    public void Services_get_the_original_limit_and_1024_when_the_runtime_may_have_raised_it_already()
    {
        Assert.Multiple(() =>
        {
            Assert.That(FileDescriptorLimit.DefaultFor(new(1024, 4096), runtimeRaisesLimit: false), Is.EqualTo(new ProcessLimit(1024, 4096)));
            Assert.That(FileDescriptorLimit.DefaultFor(new(1024, 4096), runtimeRaisesLimit: true), Is.EqualTo(new ProcessLimit(1024, 4096)), "a soft limit below the hard one was not raised");
            Assert.That(FileDescriptorLimit.DefaultFor(Raised, runtimeRaisesLimit: true), Is.EqualTo(new ProcessLimit(1024, 20000)));
            Assert.That(FileDescriptorLimit.DefaultFor(Raised, runtimeRaisesLimit: false), Is.EqualTo(Raised), "NativeAOT: what it sees is the original");
            Assert.That(FileDescriptorLimit.DefaultFor(new(64, 64), runtimeRaisesLimit: true), Is.EqualTo(new ProcessLimit(64, 64)));
        });
    }

    [Test]
    public void A_unit_limit_is_lowered_to_the_closest_the_daemon_can_set()
    {
        var ceiling = FileDescriptorLimit.KernelMaximum;
        Assert.Multiple(() =>
        {
            Assert.That(FileDescriptorLimit.ForService(new(100, 100), Raised, mayRaiseHard: false), Is.EqualTo(new ProcessLimit(100, 100)));
            Assert.That(FileDescriptorLimit.ForService(new(100, 50000), Raised, mayRaiseHard: false), Is.EqualTo(new ProcessLimit(100, 20000)));
            Assert.That(FileDescriptorLimit.ForService(new(30000, 50000), Raised, mayRaiseHard: false), Is.EqualTo(Raised));
            Assert.That(FileDescriptorLimit.ForService(new(ProcessLimit.Infinity, ProcessLimit.Infinity), Raised, mayRaiseHard: true), Is.EqualTo(new ProcessLimit(ceiling, ceiling)));
            Assert.That(FileDescriptorLimit.ForService(new(100, 50000), Raised, mayRaiseHard: true), Is.EqualTo(new ProcessLimit(100, Math.Min(50000, ceiling))));
            Assert.That(FileDescriptorLimit.ForService(null, Raised, mayRaiseHard: false).Hard, Is.LessThanOrEqualTo(20000UL));
        });
    }

    [TestCase(1024UL, 20000UL, 20000UL, 20000UL, "ulimit -S -n 1024 || exit 205; ")]
    [TestCase(100UL, 100UL, 20000UL, 20000UL, "ulimit -S -n 100 && ulimit -H -n 100 || exit 205; ")]
    [TestCase(4096UL, 1048576UL, 1024UL, 4096UL, "ulimit -H -n 1048576 && ulimit -S -n 4096 || exit 205; ")]
    [TestCase(512UL, 4096UL, 512UL, 8192UL, "ulimit -H -n 4096 || exit 205; ")]
    [TestCase(20000UL, 20000UL, 20000UL, 20000UL, "")]
    public void The_shim_changes_what_differs_in_an_order_the_kernel_accepts(ulong soft, ulong hard, ulong fromSoft, ulong fromHard, string expected)
    {
        Assert.That(FileDescriptorLimit.ShellCommands(new(soft, hard), new(fromSoft, fromHard)), Is.EqualTo(expected));
    }

    [Test]
    public void The_limits_the_kernel_applies_follow_the_commands()
    {
        // Each case through a real dash, from the limit of this process: the order matters to the kernel.
        var current = FileDescriptorLimit.Current;
        foreach (var wanted in new ProcessLimit[] { new(100, 100), new(64, current.Hard), new(32, 48) })
        {
            var script = FileDescriptorLimit.ShellCommands(wanted, current) + "echo $(ulimit -S -n) $(ulimit -H -n)";
            using var shell = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", script]) { RedirectStandardOutput = true })!;
            var output = shell.StandardOutput.ReadToEnd().Trim();
            shell.WaitForExit();
            Assert.That(output, Is.EqualTo($"{wanted.Soft} {wanted.Hard}"), script);
        }
    }
}
