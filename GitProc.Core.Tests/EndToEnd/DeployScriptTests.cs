using System.Runtime.Versioning;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>samples/integrations/deploy.sh</c> as an operator runs it, against a real daemon: it shows the plan, keeps a unit
/// the daemon would reject off the branch, and reverts a commit the daemon rolled back.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class DeployScriptTests
{
    private const string Script = "samples/integrations/deploy.sh";

    private GitProcSandbox _sandbox = null!;

    [SetUp]
    public async Task SetUp()
    {
        _sandbox = await GitProcSandbox.CreateAsync(CancellationToken.None);
        await _sandbox.WriteConfigAsync("""
            "Delivery": { "VerifyWindow": "00:00:02" }
            """);
    }

    [TearDown]
    public async Task TearDown() => await _sandbox.DisposeAsync();

    [Test]
    public async Task Shows_the_plan_deploys_keeps_a_rejected_unit_off_the_branch_and_reverts_a_rolled_back_one(CancellationToken token)
    {
        _sandbox.WriteUnit("db", _sandbox.Unit("db"));
        await _sandbox.CommitAsync("db", token);
        await _sandbox.StartDaemonAsync(token);
        await _sandbox.WaitRunningAsync(token, "db");

        var web = Path.Combine(_sandbox.Root, "web.service");
        await File.WriteAllTextAsync(web, _sandbox.Unit("web"), token);
        var deployed = await _sandbox.ScriptAsync(Script, ["-m", "add web", web], token);
        Assert.That(deployed.ExitCode, Is.Zero, deployed.ToString);
        var head = await _sandbox.GitAsync(token, "rev-parse", "--short=7", "HEAD");
        Assert.That(deployed.Lines, Has.Some.EqualTo($"Plan for {head}:"), deployed.ToString);
        Assert.That(deployed.Lines, Has.Some.EqualTo("  start web").And.Some.EqualTo("  unchanged db"), deployed.ToString);
        Assert.That(deployed.Lines, Has.Some.EqualTo($"Verified: {head}"), deployed.ToString);
        await _sandbox.WaitRunningAsync(token, "db", "web");

        // A unit the daemon would reject never reaches the branch, and the repository is left as it was.
        var broken = Path.Combine(_sandbox.Root, "api.service");
        await File.WriteAllTextAsync(broken, "[Service]\nRestart=always\n", token);
        var rejected = await _sandbox.ScriptAsync(Script, [broken], token);
        Assert.That(rejected.ExitCode, Is.EqualTo(1), rejected.ToString);
        Assert.That(rejected.Stderr, Does.Contain("api.service").And.Contain("ExecStart"), rejected.ToString);
        Assert.That(rejected.Stdout, Does.Contain("Not deployed"), rejected.ToString);
        Assert.That(await _sandbox.GitAsync(token, "rev-parse", "--short=7", "HEAD"), Is.EqualTo(head));
        Assert.That(await _sandbox.GitAsync(token, "status", "--porcelain"), Is.Empty);

        // A release that crash-loops is rolled back by the daemon, and the script reverts it on the branch.
        await File.WriteAllTextAsync(web, "[Service]\nExecStart=/bin/sh -c 'exit 3'\nRestart=on-failure\nRestartSec=100ms\n", token);
        var crashing = await _sandbox.ScriptAsync(Script, ["-m", "break web", web], token);
        Assert.That(crashing.ExitCode, Is.EqualTo(1), crashing.ToString);
        Assert.That(crashing.Lines, Has.Some.EqualTo("  restart web (changed: ExecStart, Restart, RestartSec, Description)"), crashing.ToString);
        Assert.That(crashing.Lines, Has.Some.StartsWith("Rolled back: "), crashing.ToString);
        Assert.That(await _sandbox.GitAsync(token, "log", "-1", "--format=%s"), Is.EqualTo("Revert \"break web\""));
        Assert.That(await _sandbox.GitAsync(token, "diff", head, "HEAD", "--stat"), Is.Empty, "the branch has what runs again");
        await _sandbox.WaitRunningAsync(token, "db", "web");
    }
}
