using GitProc.Core.Tests.TestSupport;
using GitProc.Git;

namespace GitProc.Core.Tests.Git;

[TestFixture]
[CancelAfter(60_000)]
public sealed class GitIntegrationWriteTests
{
    private TempGitRepository _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempGitRepository();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public async Task Rollback_adds_a_commit_with_the_targets_tree_and_keeps_history()
    {
        _temp.InitWithCli();
        _temp.Git("config", "user.name", "Repo Owner");
        _temp.Git("config", "user.email", "owner@example.com");
        var first = _temp.Commit("first", ("a.service", "a1"));
        var second = _temp.Commit("second", ("a.service", "a2"), ("b.service", "b"));
        var git = _temp.CreateIntegration();
        string? validated = null;

        var rollback = await git.RollbackAsync(first[..8], (sha, _) => { validated = sha; return Task.CompletedTask; });

        Assert.That(validated, Is.EqualTo(first));
        Assert.That(rollback.Subject, Is.EqualTo($"Rollback to {first[..7]}"));
        Assert.That(_temp.Git("log", "-1", "--format=%B", "main"), Is.EqualTo($"Rollback to {first[..7]}"));
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(rollback.Sha));
        Assert.That(_temp.Git("rev-parse", "main^{tree}"), Is.EqualTo(_temp.Git("rev-parse", $"{first}^{{tree}}")));
        Assert.That(_temp.Git("rev-parse", "main^"), Is.EqualTo(second));
        Assert.That(_temp.Git("rev-list", "--count", "main"), Is.EqualTo("3"));
        Assert.That(_temp.Git("log", "-1", "--format=%an <%ae>|%cn <%ce>", "main"), Is.EqualTo("Repo Owner <owner@example.com>|Repo Owner <owner@example.com>"));
        Assert.That(rollback.AuthorName, Is.EqualTo("Repo Owner"));
    }

    [Test]
    public async Task Rollback_moves_a_clean_working_tree_and_index_along()
    {
        _temp.InitWithCli();
        var first = _temp.Commit("first", ("a.service", "a1"));
        _temp.Commit("second", ("a.service", "a2"), ("b.service", "b"));
        File.WriteAllText(Path.Combine(_temp.Path, "stray.txt"), "untracked, not in the target");
        var git = _temp.CreateIntegration();

        await git.RollbackAsync(first);

        Assert.That(_temp.WorkFile("a.service"), Is.EqualTo("a1"));
        Assert.That(File.Exists(Path.Combine(_temp.Path, "b.service")), Is.False);
        Assert.That(_temp.WorkFile("stray.txt"), Is.EqualTo("untracked, not in the target"));
        Assert.That(_temp.Git("status", "--porcelain"), Is.EqualTo("?? stray.txt"));
    }

    [Test]
    public async Task Rollback_with_uncommitted_changes_commits_but_leaves_the_working_tree_alone()
    {
        _temp.InitWithCli();
        var first = _temp.Commit("first", ("a.service", "a1"));
        var second = _temp.Commit("second", ("a.service", "a2"), ("b.service", "b"));
        File.WriteAllText(Path.Combine(_temp.Path, "b.service"), "edited by hand");
        var git = _temp.CreateIntegration();

        var rollback = await git.RollbackAsync(first);

        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(rollback.Sha));
        Assert.That(_temp.Git("rev-parse", "main^"), Is.EqualTo(second));
        Assert.That(_temp.WorkFile("b.service"), Is.EqualTo("edited by hand"));
        Assert.That(_temp.WorkFile("a.service"), Is.EqualTo("a2"));
    }

    [Test]
    public async Task Rollback_treats_an_untracked_file_the_target_would_overwrite_as_uncommitted()
    {
        _temp.InitWithCli();
        var first = _temp.Commit("first", ("a.service", "a1"), ("old.service", "tracked once"));
        _temp.Commit("second", ("old.service", null));
        File.WriteAllText(Path.Combine(_temp.Path, "old.service"), "precious untracked work");
        var git = _temp.CreateIntegration();

        await git.RollbackAsync(first);

        Assert.That(_temp.Git("ls-tree", "--name-only", "main"), Does.Contain("old.service"));
        Assert.That(_temp.WorkFile("old.service"), Is.EqualTo("precious untracked work"));
    }

    [Test]
    public async Task Rollback_rejected_by_validation_writes_nothing()
    {
        _temp.InitWithCli();
        var first = _temp.Commit("first", ("a.service", "a1"));
        var second = _temp.Commit("second", ("a.service", "a2"));
        var objectsBefore = _temp.Git("count-objects", "-v");
        var git = _temp.CreateIntegration();

        var error = Assert.ThrowsAsync<InvalidOperationException>(() =>
            git.RollbackAsync(first, (_, _) => throw new InvalidOperationException("a.service:2: bad")));

        Assert.That(error.Message, Is.EqualTo("a.service:2: bad"));
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(second));
        Assert.That(_temp.Git("count-objects", "-v"), Is.EqualTo(objectsBefore));
        Assert.That(_temp.WorkFile("a.service"), Is.EqualTo("a2"));
    }

    [Test]
    public async Task Rollback_to_a_commit_with_the_tips_tree_is_an_error()
    {
        _temp.InitWithCli();
        _temp.Commit("first", ("a.service", "a1"));
        var second = _temp.Commit("second", ("a.service", "a2"));
        var same = _temp.Commit("same tree");
        var git = _temp.CreateIntegration();

        var error = Assert.ThrowsAsync<GitException>(() => git.RollbackAsync(second));

        Assert.That(error.Message, Is.EqualTo($"Nothing to roll back: the tip of branch main ({same[..7]}) already has the tree of {second[..7]}."));
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(same));
    }

    [Test]
    public void Rollback_to_an_unknown_commit_is_an_error_before_validation()
    {
        _temp.InitWithCli();
        _temp.Commit("first", ("a.service", "a1"));
        var git = _temp.CreateIntegration();
        var validated = false;

        var error = Assert.ThrowsAsync<GitException>(() => git.RollbackAsync("deadbeef", (_, _) => { validated = true; return Task.CompletedTask; }));

        Assert.That(error.Message, Is.EqualTo($"Commit 'deadbeef' not found in {_temp.Path}."));
        Assert.That(validated, Is.False);
    }

    [Test]
    public async Task Rollback_may_target_a_commit_on_another_branch_and_leaves_other_checkouts_alone()
    {
        _temp.InitWithCli();
        _temp.Commit("first", ("a.service", "a1"));
        _temp.Git("checkout", "-q", "-b", "other");
        var other = _temp.Commit("other", ("o.service", "o"));
        var git = _temp.CreateIntegration();

        var rollback = await git.RollbackAsync("other");

        Assert.That(_temp.Git("rev-parse", "main^{tree}"), Is.EqualTo(_temp.Git("rev-parse", $"{other}^{{tree}}")));
        Assert.That(rollback.Subject, Is.EqualTo($"Rollback to {other[..7]}"));
        Assert.That(_temp.Git("symbolic-ref", "HEAD"), Is.EqualTo("refs/heads/other"));
        Assert.That(_temp.Git("status", "--porcelain"), Is.Empty);
    }

    [Test]
    public async Task Fetch_without_a_remote_does_nothing()
    {
        _temp.InitWithCli();
        var git = _temp.CreateIntegration();

        Assert.That(await git.FetchAsync(), Is.EqualTo(new FetchResult(FetchOutcome.NoRemote, null, null, null)));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task Fetch_fast_forwards_the_watched_branch_and_a_clean_working_tree(bool fileUrl)
    {
        var upstream = _temp.InitWithCli(Path.Combine(_temp.Root, "upstream"));
        var first = _temp.CommitIn(upstream, "first", ("a.service", "a1"));
        var git = _temp.CreateIntegration(remoteUrl: fileUrl ? new Uri(upstream).AbsoluteUri : upstream);
        await git.InitAsync();

        var initial = await git.FetchAsync();

        Assert.That(initial, Is.EqualTo(new FetchResult(FetchOutcome.FastForwarded, null, first, first)));
        Assert.That(_temp.WorkFile("a.service"), Is.EqualTo("a1"));
        Assert.That(_temp.Git("rev-parse", "refs/remotes/gitproc/main"), Is.EqualTo(first));

        var second = _temp.CommitIn(upstream, "second", ("a.service", "a2"), ("b.service", "b"));
        var next = await git.FetchAsync();

        Assert.That(next, Is.EqualTo(new FetchResult(FetchOutcome.FastForwarded, first, second, second)));
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(second));
        Assert.That(_temp.WorkFile("b.service"), Is.EqualTo("b"));
        Assert.That(_temp.Git("status", "--porcelain"), Is.Empty);
        Assert.That(await git.FetchAsync(), Is.EqualTo(new FetchResult(FetchOutcome.UpToDate, second, second, second)));
    }

    [Test]
    public async Task Fetch_follows_a_differently_named_remote_branch()
    {
        var upstream = _temp.InitWithCli(Path.Combine(_temp.Root, "upstream"), branch: "release");
        var first = _temp.CommitIn(upstream, "first", ("a.service", "a1"));
        _temp.InitWithCli();
        var git = _temp.CreateIntegration(remoteUrl: upstream, remoteBranch: "release");

        var result = await git.FetchAsync();

        Assert.That(result.Outcome, Is.EqualTo(FetchOutcome.FastForwarded));
        Assert.That(_temp.Git("rev-parse", "main"), Is.EqualTo(first));
    }

    [Test]
    public async Task Fetch_leaves_a_branch_that_is_ahead_alone()
    {
        var upstream = _temp.InitWithCli(Path.Combine(_temp.Root, "upstream"));
        var first = _temp.CommitIn(upstream, "first", ("a.service", "a1"));
        var git = _temp.CreateIntegration(remoteUrl: upstream);
        await git.InitAsync();
        await git.FetchAsync();
        var local = _temp.Commit("local", ("a.service", "local"));
        var rollback = await git.RollbackAsync(first);

        var result = await git.FetchAsync();

        Assert.That(result, Is.EqualTo(new FetchResult(FetchOutcome.LocalAhead, rollback.Sha, first, rollback.Sha)));
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(rollback.Sha));
        Assert.That(_temp.Git("rev-parse", "main~1"), Is.EqualTo(local));
    }

    [Test]
    public async Task Fetch_refuses_a_diverged_branch_naming_both_commits_and_does_not_move_it()
    {
        var upstream = _temp.InitWithCli(Path.Combine(_temp.Root, "upstream"));
        _temp.CommitIn(upstream, "first", ("a.service", "a1"));
        var git = _temp.CreateIntegration(remoteUrl: new Uri(upstream).AbsoluteUri);
        await git.InitAsync();
        await git.FetchAsync();
        var local = _temp.Commit("local", ("a.service", "local"));
        var remote = _temp.CommitIn(upstream, "remote", ("a.service", "remote"));

        var error = Assert.ThrowsAsync<GitException>(() => git.FetchAsync());

        Assert.That(error.Message, Is.EqualTo(
            $"Local branch main ({local[..7]}) and remote main ({remote[..7]}) have diverged; refusing to move main. Resolve by hand."));
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(local));
        Assert.That(_temp.WorkFile("a.service"), Is.EqualTo("local"));
    }

    [Test]
    public async Task Fetch_from_a_remote_without_the_branch_or_a_missing_remote_is_an_error()
    {
        var upstream = _temp.InitWithCli(Path.Combine(_temp.Root, "upstream"));
        _temp.CommitIn(upstream, "first", ("a.service", "a1"));
        _temp.InitWithCli();
        var noBranch = _temp.CreateIntegration(remoteUrl: upstream, remoteBranch: "nope");
        var missing = _temp.CreateIntegration(remoteUrl: Path.Combine(_temp.Root, "missing"));

        var error = Assert.ThrowsAsync<GitException>(() => noBranch.FetchAsync());
        var missingError = Assert.ThrowsAsync<GitException>(() => missing.FetchAsync());

        Assert.That(error.Message, Is.EqualTo($"The remote {upstream} has no branch nope."));
        Assert.That(missingError.Message, Does.StartWith($"Fetching branch main from {Path.Combine(_temp.Root, "missing")} into {_temp.Path} failed: "));
        Assert.That(await noBranch.GetBranchTipAsync(), Is.Null);
    }
}
