using System.Runtime.Versioning;
using System.Text.Json;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>samples/integrations/deploy.yml</c> run by the real <c>ansible-playbook</c> against this machine
/// (<c>-i localhost, -c local</c>), a real daemon, and a bare repository on disk as the Git remote.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(240_000)]
public sealed class AnsiblePlaybookTests : SandboxFixture
{
    private const string Playbook = "samples/integrations/deploy.yml";

    private string _ansiblePlaybook = null!;
    private string _remote = null!;
    private string _work = null!;

    [SetUp]
    public async Task SetUp()
    {
        _ansiblePlaybook = Tools.Require("ansible-playbook", "ansible");
        await Sandbox.WriteConfigAsync("""
            "Delivery": { "VerifyWindow": "00:00:02" }
            """);
        _remote = Path.Combine(Sandbox.Root, "remote.git");
        _work = Path.Combine(Sandbox.Root, "work");
        await GitAsync(Sandbox.Root, "init", "-q", "--bare", "-b", "main", _remote);
        await GitAsync(Sandbox.Root, "init", "-q", "-b", "main", _work);
        await GitAsync(_work, "remote", "add", "origin", _remote);
    }

    [Test]
    public async Task Deploys_the_remotes_tip_shows_status_and_logs_is_idempotent_and_fails_the_host_on_a_rolled_back_commit(CancellationToken token)
    {
        await Sandbox.StartDaemonAsync(token);
        await File.WriteAllTextAsync(Path.Combine(_work, "web.service"), Sandbox.Unit("web"), token);
        await File.WriteAllTextAsync(Path.Combine(_work, "job.service"), "[Service]\nType=oneshot\nExecStart=/bin/echo the job ran\n", token);
        var first = await PushAsync("web and job", token);

        var deployed = await RunPlaybookAsync(token);
        Assert.That(deployed.ExitCode, Is.Zero, deployed.ToString);
        Assert.That(await Sandbox.GitAsync(token, "rev-parse", "main"), Is.EqualTo(first), "the host's watched branch is the remote's tip");
        var pid = (await Sandbox.WaitRunningAsync(token, "web"))["web"];
        Assert.That(deployed.Stdout, Does.Contain($"\"web: running, PID {pid}\"").And.Contain("hello from web"), deployed.ToString);
        Assert.That(deployed.Stdout, Does.Contain("\"job: stopped (exited)\"").And.Contain("the job ran"), deployed.ToString);
        Assert.That(Recap(deployed), Does.Contain("failed=0").And.Not.Contain("changed=0"), deployed.ToString);

        // Nothing new on the remote: nothing changes on the host, and the play says so.
        var again = await RunPlaybookAsync(token);
        Assert.That(again.ExitCode, Is.Zero, again.ToString);
        Assert.That(Recap(again), Does.Contain("changed=0").And.Contain("failed=0"), again.ToString);
        Assert.That((await Sandbox.ListAsync())["web"].Pid, Is.EqualTo(pid), "an unchanged service is not restarted");

        // A release that crash-loops: the daemon rolls it back, the play fails the host, and the old web runs on.
        await File.WriteAllTextAsync(Path.Combine(_work, "web.service"), "[Service]\nExecStart=/bin/sh -c 'exit 3'\nRestart=on-failure\nRestartSec=100ms\n", token);
        await PushAsync("break web", token);
        var broken = await RunPlaybookAsync(token);
        Assert.That(broken.ExitCode, Is.EqualTo(2), "ansible-playbook's code for a failed host\n" + broken);
        // The verdict, whichever came first: sync --wait saw the rollback happen ("Rolled back: SHA (web ...)"), or the
        // daemon had applied and rolled back the new tip by itself before the sync ("... was rolled back (web ...").
        Assert.That(broken.Stdout, Does.Match(@"[Rr]olled back:? (\w+ )?\(web "), "the daemon's verdict, shown by the failed task\n" + broken);
        Assert.That(Recap(broken), Does.Contain("failed=1"), broken.ToString);
        await Sandbox.WaitRunningAsync(token, "web");
        Assert.That(await File.ReadAllTextAsync(Path.Combine(Sandbox.Logs, "web.log"), token), Does.Contain("hello from web"));
    }

    [Test]
    public async Task Without_a_daemon_the_host_fails_before_its_repository_is_touched(CancellationToken token)
    {
        await File.WriteAllTextAsync(Path.Combine(_work, "web.service"), Sandbox.Unit("web"), token);
        await PushAsync("web", token);

        var result = await RunPlaybookAsync(token);
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString);
        Assert.That(result.Stdout, Does.Contain("Check that the gitproc daemon answers").And.Contain(Sandbox.Socket), result.ToString);
        var branch = await Sandbox.RunToolAsync("git", ["-C", Sandbox.Repo, "rev-parse", "--verify", "-q", "main"], token);
        Assert.That(branch.ExitCode, Is.Not.Zero, "the repository still has no commit:\n" + branch);
    }

    private async Task<string> PushAsync(string message, CancellationToken token)
    {
        await GitAsync(_work, "add", "-A");
        await GitAsync(_work, "-c", "user.name=GitProc E2E", "-c", "user.email=e2e@gitproc.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "-m", message);
        await GitAsync(_work, "push", "-q", "origin", "main");
        return (await Sandbox.RunToolAsync("git", ["-C", _work, "rev-parse", "HEAD"], token)).Stdout.Trim();
    }

    private async Task GitAsync(string directory, params string[] args)
    {
        var result = await Sandbox.RunToolAsync("git", ["-C", directory, .. args], CancellationToken.None);
        Assert.That(result.ExitCode, Is.Zero, result.ToString);
    }

    /// <summary>The playbook as the README shows it for one host, with every path inside the sandbox.</summary>
    private Task<CliResult> RunPlaybookAsync(CancellationToken token)
    {
        var variables = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["gitproc_remote"] = "file://" + _remote,
            ["gitproc_repo"] = Sandbox.Repo,
            ["gitproc_command"] = Sandbox.ScriptEnvironment["GITPROC"],
            ["gitproc_socket"] = Sandbox.Socket,
            ["gitproc_wait_seconds"] = 15,
            ["gitproc_become"] = false,
        });

        // Ansible's own files (facts cache, module temp files) stay inside the sandbox, not in ~/.ansible.
        var ansibleHome = Path.Combine(Sandbox.Root, "ansible");
        var environment = new Dictionary<string, string>
        {
            ["ANSIBLE_HOME"] = ansibleHome,
            ["ANSIBLE_LOCAL_TEMP"] = Path.Combine(ansibleHome, "tmp"),
            ["ANSIBLE_REMOTE_TEMP"] = Path.Combine(ansibleHome, "tmp"),
            ["ANSIBLE_NOCOLOR"] = "1",
            ["ANSIBLE_PYTHON_INTERPRETER"] = "auto_silent",
        };
        return Sandbox.ScriptAsync(Playbook, ["-i", "localhost,", "-c", "local", "-e", variables], token, _ansiblePlaybook, environment);
    }

    private static string Recap(CliResult result) =>
        result.Lines.SkipWhile(l => !l.StartsWith("PLAY RECAP", StringComparison.Ordinal)).Skip(1).FirstOrDefault() ?? "";
}
