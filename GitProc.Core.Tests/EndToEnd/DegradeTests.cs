using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// Degrade, never die (CONTRACT §9), with the real daemon: its services get their own open-file limit, never the
/// raised one the daemon runs with.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class DegradeTests
{
    private const string Prlimit = "/usr/bin/prlimit";

    [Test]
    [CancelAfter(120_000)]
    public async Task Services_get_their_LimitNOFILE_or_the_daemons_original_limit_never_the_raised_one(CancellationToken token)
    {
        RequirePrlimit();
        await using var sandbox = await GitProcSandbox.CreateAsync(token);
        sandbox.WriteUnit("plain", sandbox.Unit("plain"));
        sandbox.WriteUnit("narrow", sandbox.Unit("narrow", "LimitNOFILE=100"));
        sandbox.WriteUnit("split", sandbox.Unit("split", "LimitNOFILE=256:4096"));
        await sandbox.CommitAsync("three limits", token);

        await sandbox.StartDaemonAsync(token, [Prlimit, "--nofile=1024:8192", "--"]);
        var pids = await sandbox.WaitRunningAsync(token, "plain", "narrow", "split");

        Assert.Multiple(() =>
        {
            Assert.That(ProcScan.OpenFileLimit(sandbox.DaemonPid), Is.EqualTo((8192UL, 8192UL)), "the daemon raised its own soft limit to the hard one");
            Assert.That(ProcScan.OpenFileLimit(pids["plain"]), Is.EqualTo((1024UL, 8192UL)), "the daemon's original limit");
            Assert.That(ProcScan.OpenFileLimit(pids["narrow"]), Is.EqualTo((100UL, 100UL)));
            Assert.That(ProcScan.OpenFileLimit(pids["split"]), Is.EqualTo((256UL, 4096UL)));
        });
    }

    private static void RequirePrlimit()
    {
        if (!File.Exists(Prlimit))
        {
            Assert.Ignore($"Needs {Prlimit} (util-linux) to set a process's open-file limit.");
        }
    }
}
