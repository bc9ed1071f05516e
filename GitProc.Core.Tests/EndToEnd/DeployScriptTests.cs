using System.Runtime.Versioning;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>samples/integrations/deploy.sh</c> as an operator runs it, against a real daemon: it shows the plan, keeps a unit
/// the daemon would reject off the branch, and reverts a commit the daemon rolled back.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class DeployScriptTests : SandboxFixture
{
    private const string Script = "samples/integrations/deploy.sh";

    [SetUp]
    public async Task SetUp()
    {
        await Sandbox.WriteConfigAsync("""
            "Delivery": { "VerifyWindow": "00:00:02" }
            """);
    }

    [Test]
    public async Task Shows_the_plan_deploys_keeps_a_rejected_unit_off_the_branch_and_reverts_a_rolled_back_one(CancellationToken token)
    {
        Sandbox.WriteUnit("db", Sandbox.Unit("db"));
        await Sandbox.CommitAsync("db", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "db");

        var web = Path.Combine(Sandbox.Root, "web.service");
        await File.WriteAllTextAsync(web, Sandbox.Unit("web"), token);
        var deployed = await Sandbox.ScriptAsync(Script, ["-m", "add web", web], token);
        Assert.That(deployed.ExitCode, Is.Zero, deployed.ToString);
        var head = await Sandbox.GitAsync(token, "rev-parse", "--short=7", "HEAD");
        Assert.That(deployed.Lines, Has.Some.EqualTo($"Plan for {head}:"), deployed.ToString);
        Assert.That(deployed.Lines, Has.Some.EqualTo("  start web").And.Some.EqualTo("  unchanged db"), deployed.ToString);
        Assert.That(deployed.Lines, Has.Some.EqualTo($"Verified: {head}"), deployed.ToString);
        await Sandbox.WaitRunningAsync(token, "db", "web");

        // A unit the daemon would reject never reaches the branch, and the repository is left as it was.
        var broken = Path.Combine(Sandbox.Root, "api.service");
        await File.WriteAllTextAsync(broken, "[Service]\nRestart=always\n", token);
        var rejected = await Sandbox.ScriptAsync(Script, [broken], token);
        Assert.That(rejected.ExitCode, Is.EqualTo(1), rejected.ToString);
        Assert.That(rejected.Stderr, Does.Contain("api.service").And.Contain("ExecStart"), rejected.ToString);
        Assert.That(rejected.Stdout, Does.Contain("Not deployed"), rejected.ToString);
        Assert.That(await Sandbox.GitAsync(token, "rev-parse", "--short=7", "HEAD"), Is.EqualTo(head));
        Assert.That(await Sandbox.GitAsync(token, "status", "--porcelain"), Is.Empty);

        // A release that crash-loops is rolled back by the daemon, and the script reverts it on the branch.
        await File.WriteAllTextAsync(web, "[Service]\nExecStart=/bin/sh -c 'exit 3'\nRestart=on-failure\nRestartSec=100ms\n", token);
        var crashing = await Sandbox.ScriptAsync(Script, ["-m", "break web", web], token);
        Assert.That(crashing.ExitCode, Is.EqualTo(1), crashing.ToString);
        Assert.That(crashing.Lines, Has.Some.EqualTo("  restart web (changed: ExecStart, Restart, RestartSec, Description)"), crashing.ToString);
        Assert.That(crashing.Lines, Has.Some.StartsWith("Rolled back: "), crashing.ToString);
        Assert.That(await Sandbox.GitAsync(token, "log", "-1", "--format=%s"), Is.EqualTo("Revert \"break web\""));
        Assert.That(await Sandbox.GitAsync(token, "diff", head, "HEAD", "--stat"), Is.Empty, "the branch has what runs again");
        await Sandbox.WaitRunningAsync(token, "db", "web");
    }
}
