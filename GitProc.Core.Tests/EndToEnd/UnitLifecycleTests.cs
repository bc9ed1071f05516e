using System.Runtime.Versioning;
using System.Text.Json;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// systemd's unit life-cycle keys with the real daemon and CLI (CONTRACT §2, §11): <c>gitproc reload</c>, a
/// <c>RemainAfterExit=yes</c> oneshot as <c>list</c> and a dependent's restarts see it, and an OOM kill as <c>status</c>
/// shows it.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class UnitLifecycleTests : SandboxFixture
{
    [Test]
    public async Task Reload_runs_ExecReload_with_MAINPID_and_a_RemainAfterExit_oneshot_is_not_run_again_by_its_dependent(CancellationToken token)
    {
        var runs = Path.Combine(Sandbox.Root, "prepare-runs");
        var reloaded = Path.Combine(Sandbox.Root, "reloaded-pid");
        Sandbox.WriteUnit("prepare", $"[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo run >> {runs}'\nRemainAfterExit=yes\n");
        Sandbox.WriteUnit("web", Sandbox.Unit("web", $"ExecReload=/bin/sh -c 'echo $MAINPID > {reloaded}'") + "[Unit]\nAfter=prepare\n");
        await Sandbox.CommitAsync("prepare and web", token);
        await Sandbox.StartDaemonAsync(token);
        var pid = (await Sandbox.WaitRunningAsync(token, "web"))["web"];

        var reload = await Sandbox.ClientAsync(token, "reload", "web");
        Assert.That(reload.ExitCode, Is.Zero, reload.ToString);
        Assert.That(reload.Stdout, Is.EqualTo($"Service reloaded: web (PID: {pid})\n"));
        Assert.That(File.ReadAllText(reloaded).Trim(), Is.EqualTo(pid.ToString()), "the command ran, and had ended, before the answer");
        var json = await Sandbox.ClientAsync(token, "reload", "web", "--json");
        using (var data = JsonDocument.Parse(json.Stdout))
        {
            Assert.That((data.RootElement.GetProperty("service").GetString(), data.RootElement.GetProperty("pid").GetInt32()), Is.EqualTo(("web", pid)));
        }

        for (var i = 0; i < 2; i++)
        {
            var restart = await Sandbox.ClientAsync(token, "restart", "web");
            Assert.That(restart.ExitCode, Is.Zero, restart.ToString);
        }

        Assert.That(File.ReadAllLines(runs), Has.Length.EqualTo(1), "the oneshot ran once");
        var list = await Sandbox.ClientAsync(token, "list");
        Assert.That(list.Lines, Does.Contain("  prepare (running)"), list.ToString);
        var status = await Sandbox.ClientAsync(token, "status", "prepare");
        Assert.That(status.Lines, Does.Contain("Status: running").And.Contain("Sub-State: exited").And.None.StartsWith("PID:"), status.ToString);

        var notReloadable = await Sandbox.ClientAsync(token, "reload", "prepare");
        Assert.That(notReloadable.ExitCode, Is.EqualTo(1));
        Assert.That(notReloadable.Stderr, Does.StartWith("Error: prepare has no ExecReload= and no ReloadSignal="));
        Assert.That((await Sandbox.ClientAsync(token, "stop", "web")).ExitCode, Is.Zero);
        var stopped = await Sandbox.ClientAsync(token, "reload", "web");
        Assert.That((stopped.ExitCode, stopped.Stderr), Is.EqualTo((1, "Error: Service not running: web\n")));
    }

    [Test]
    public async Task An_OOM_kill_of_a_child_shows_in_status_as_out_of_memory(CancellationToken token)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: the daemon gives the service a cgroup with a memory limit");
        }

        Sandbox.WriteUnit("hog", "[Service]\nExecStart=/bin/sh -c 'head -c 400000000 /dev/zero | tail'\nMemoryMax=64M\n");
        await Sandbox.CommitAsync("a memory hog", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitForListAsync(l => l["hog"].Status == "failed", "hog failed", token);

        var status = await Sandbox.ClientAsync(token, "status", "hog");

        // The shell exits 137 (or, when the OOM watch's poll comes first, is stopped by OOMPolicy=stop: 143).
        Assert.That(status.Lines, Does.Contain("Status: failed").And.Contain("Failure: out of memory (OOM killer, MemoryMax=64M)"), status.ToString);
        Assert.That(status.Lines, Does.Contain("Last Exit Code: 137").Or.Contain("Last Exit Code: 143"), status.ToString);
    }
}
