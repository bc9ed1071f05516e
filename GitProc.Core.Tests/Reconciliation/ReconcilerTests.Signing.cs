using GitProc.Core.Tests.TestSupport;
using GitProc.Delivery;
using GitProc.Git;
using GitProc.Reconciliation;
using GitProc.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests.Reconciliation;

/// <summary>
/// <c>Git:RequireSignedCommits</c> in the reconciler, with real keys and signatures (ssh-keygen, git commit -S): an
/// untrusted tip is rejected whole the way an invalid unit is (status, history, plan), and the last good keeps running.
/// </summary>
public sealed partial class ReconcilerTests
{
    private SshSigningKey? _alice;
    private SshSigningKey? _mallory;

    /// <summary>The signer the allowed signers file lists (as alice@example.com).</summary>
    private SshSigningKey Alice => _alice ??= SshSigningKey.Create(KeyDirectory, "alice");

    /// <summary>A signer nobody allowed.</summary>
    private SshSigningKey Mallory => _mallory ??= SshSigningKey.Create(KeyDirectory, "mallory");

    private string KeyDirectory => Directory.CreateDirectory(Path.Combine(_repo.Root, "keys")).FullName;

    private string AllowedSigners => Path.Combine(_repo.Root, "allowed_signers");

    /// <summary>A reconciler that requires signed commits and trusts Alice's key.</summary>
    private (Reconciler Reconciler, ISupervisor Supervisor) CreateSigning(Action<GitProcOptions>? configure = null)
    {
        if (!File.Exists(AllowedSigners))
        {
            File.WriteAllText(AllowedSigners, Alice.AllowedSigner("alice@example.com") + "\n");
        }

        return Create(configure: o =>
        {
            o.Git.RequireSignedCommits = true;
            o.Git.AllowedSignersFile = AllowedSigners;
            configure?.Invoke(o);
        });
    }

    [Test]
    public async Task A_signed_commit_is_applied_and_an_unsigned_or_unknown_signers_tip_is_rejected_whole_while_the_last_good_keeps_running()
    {
        var good = _repo.SignedCommit(Alice.GitSettings, "web", ("web.service", Unit(Sleep("web"))));
        var (reconciler, supervisor) = CreateSigning();
        var applied = await reconciler.SyncAsync();
        Assert.That(applied.Commit, Is.EqualTo(good));
        var pid = supervisor.GetStatus("web").Pid;

        // Valid units, unsigned: nothing of it applies.
        var unsigned = _repo.Commit("web v2 and api", ("web.service", Unit(Sleep("web2"))), ("api.service", Unit(Sleep("api"))));
        var ex = Assert.ThrowsAsync<CommitRejectedException>(() => reconciler.SyncAsync())!;
        Assert.That(ex.Message, Is.EqualTo($"Commit {unsigned[..7]} rejected, nothing applied: unsigned, and Git:RequireSignedCommits accepts signed commits only"));
        Assert.That(ex.Rejection.File, Is.Null);
        Assert.That(reconciler.Status.Rejected?.Commit, Is.EqualTo(unsigned));
        Assert.That(reconciler.Status.AppliedCommit, Is.EqualTo(good));
        Assert.That(supervisor.GetStatus("web").Pid, Is.EqualTo(pid), "the running service was not touched");
        Assert.That(supervisor.ListServices().Select(s => s.Name), Is.EqualTo(new[] { "web" }));

        var record = _providers[^1].GetRequiredService<IDeliveryHistory>().Find(unsigned);
        Assert.That(record?.Result, Is.EqualTo(DeliveryResult.Rejected));
        Assert.That(record?.Errors, Is.EqualTo(new[] { "unsigned, and Git:RequireSignedCommits accepts signed commits only" }));

        // Signed, but by a key nobody allowed.
        var forged = _repo.SignedCommit(Mallory.GitSettings, "web v3", ("web.service", Unit(Sleep("web3"))));
        ex = Assert.ThrowsAsync<CommitRejectedException>(() => reconciler.SyncAsync())!;
        Assert.That(ex.Message, Does.Contain($"Commit {forged[..7]} rejected, nothing applied: signed by unknown key {Mallory.Fingerprint} (ED25519)"));
        Assert.That(supervisor.GetStatus("web").Pid, Is.EqualTo(pid));

        // Plan says the same, and a signed commit on top applies as usual.
        var plan = await reconciler.PlanAsync();
        Assert.That(plan.Plan, Is.Null);
        Assert.That(plan.Errors, Is.EqualTo(new[] { reconciler.Status.Rejected!.Reason }));
        var fixedCommit = _repo.SignedCommit(Alice.GitSettings, "web v4", ("web.service", Unit(Sleep("web4"))));
        var sync = await reconciler.SyncAsync();
        Assert.That(sync.Commit, Is.EqualTo(fixedCommit));
        Assert.That(sync.Changes.Restarted, Is.EqualTo(new[] { "web" }));
        Assert.That(reconciler.Status.Rejected, Is.Null);
    }

    [Test]
    public async Task Plan_of_an_unsigned_commit_says_it_would_be_rejected_and_of_a_signed_tip_on_top_what_it_would_do()
    {
        var unsigned = _repo.Commit("api", ("api.service", Unit(Sleep("api"))));
        var signed = _repo.SignedCommit(Alice.GitSettings, "web", ("web.service", Unit(Sleep("web"))));
        var (reconciler, _) = CreateSigning();

        var rejected = await reconciler.PlanAsync(unsigned[..7]);
        var accepted = await reconciler.PlanAsync();

        Assert.That(rejected.Errors, Is.EqualTo(new[] { "unsigned, and Git:RequireSignedCommits accepts signed commits only" }));
        Assert.That(accepted.Commit, Is.EqualTo(signed));
        Assert.That(accepted.Errors, Is.Empty);
        // Only the tip is verified: its signer vouches for the whole tree, api of the unsigned commit below included.
        Assert.That(accepted.Plan!.Of(PlannedAction.Start), Is.EqualTo(new[] { "api", "web" }));
    }

    [Test]
    public async Task Rollback_is_refused_before_anything_is_written_since_its_commit_would_be_unsigned()
    {
        var first = _repo.SignedCommit(Alice.GitSettings, "v1", ("web.service", Unit(Sleep("web1"))));
        var second = _repo.SignedCommit(Alice.GitSettings, "v2", ("web.service", Unit(Sleep("web2"))));
        var (reconciler, _) = CreateSigning();
        await reconciler.SyncAsync();

        var ex = Assert.ThrowsAsync<GitProcException>(() => reconciler.RollbackAsync(first[..7]))!;

        Assert.That(ex.Code, Is.EqualTo(GitProcErrorCodes.NotSupported));
        Assert.That(ex.Message, Does.StartWith("Rollback is refused while Git:RequireSignedCommits is on").And.Contain("git revert -S"));
        Assert.That(_repo.Git("rev-parse", "main"), Is.EqualTo(second), "no commit was made");
    }

    [Test]
    public async Task An_unsigned_commit_fetched_from_the_remote_is_rejected_and_the_last_signed_one_keeps_running()
    {
        var remote = Path.Combine(_repo.Root, "remote.git");
        _repo.GitIn(_repo.Root, "init", "-q", "--bare", "-b", "main", remote);
        var upstream = Path.Combine(_repo.Root, "upstream");
        _repo.GitIn(_repo.Root, "clone", "-q", remote, upstream);
        var signed = _repo.SignedCommitIn(upstream, Alice.GitSettings, "v1", ("web.service", Unit(Sleep("web1"))));
        _repo.GitIn(upstream, "push", "-q", "origin", "main");
        var (reconciler, supervisor) = CreateSigning(o =>
        {
            o.Git.RemoteUrl = new Uri(remote).AbsoluteUri;
            o.Git.FetchInterval = TimeSpan.FromHours(1);
        });
        Assert.That((await reconciler.SyncAsync()).Commit, Is.EqualTo(signed));
        var pid = supervisor.GetStatus("web").Pid;

        var pushed = _repo.CommitIn(upstream, "v2, unsigned", ("web.service", Unit(Sleep("web2"))));
        _repo.GitIn(upstream, "push", "-q", "origin", "main");
        var ex = Assert.ThrowsAsync<CommitRejectedException>(() => reconciler.SyncAsync())!;

        Assert.That(ex.Rejection.Commit, Is.EqualTo(pushed));
        Assert.That(_repo.Git("rev-parse", "main"), Is.EqualTo(pushed), "the branch follows the remote; what runs is what was verified");
        Assert.That(reconciler.Status.AppliedCommit, Is.EqualTo(signed));
        Assert.That(supervisor.GetStatus("web").Pid, Is.EqualTo(pid));
    }

    [Test]
    public async Task A_trust_file_broken_while_running_is_a_Git_error_until_fixed_not_a_verdict_on_the_commit()
    {
        _repo.SignedCommit(Alice.GitSettings, "v1", ("web.service", Unit(Sleep("web1"))));
        var (reconciler, _) = CreateSigning();
        await reconciler.SyncAsync();

        File.WriteAllText(AllowedSigners, Alice.PublicKey + "\n");
        var next = _repo.SignedCommit(Alice.GitSettings, "v2", ("web.service", Unit(Sleep("web2"))));
        var ex = Assert.ThrowsAsync<GitException>(() => reconciler.SyncAsync())!;
        Assert.That(ex.Message, Does.Contain($"{AllowedSigners}:1 (Git:AllowedSignersFile)"));
        Assert.That(reconciler.Status.GitError, Is.EqualTo(ex.Message));
        Assert.That(reconciler.Status.Rejected, Is.Null, "the commit itself was not judged");

        File.WriteAllText(AllowedSigners, Alice.AllowedSigner("alice@example.com") + "\n");
        var sync = await reconciler.SyncAsync();
        Assert.That(sync.Commit, Is.EqualTo(next));
        Assert.That(reconciler.Status.GitError, Is.Null);
    }
}
