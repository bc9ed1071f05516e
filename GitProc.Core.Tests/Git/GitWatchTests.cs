using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.Git;

[TestFixture]
[CancelAfter(60_000)]
public sealed class GitWatchTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private TempGitRepository _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempGitRepository();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public async Task WatchBranch_fires_on_a_commit_made_by_the_git_CLI()
    {
        _temp.InitWithCli();
        _temp.Commit("first", ("a.service", "a1"));
        var git = _temp.CreateIntegration();
        var calls = new CallCounter();
        using var watch = git.WatchBranch(calls.Signal);

        var second = _temp.Commit("second", ("a.service", "a2"));

        Assert.That(await calls.WaitAsync(Patience), Is.True, "no callback after a commit");
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(second));
    }

    [Test]
    public async Task WatchBranch_fires_on_a_branch_with_a_slash_and_on_pack_refs()
    {
        _temp.InitWithCli(branch: "env/prod");
        _temp.Commit("first", ("a.service", "a1"));
        var git = _temp.CreateIntegration(branch: "env/prod");
        var calls = new CallCounter();
        using var watch = git.WatchBranch(calls.Signal);

        _temp.Commit("second", ("a.service", "a2"));
        Assert.That(await calls.WaitAsync(Patience), Is.True, "no callback after a commit on env/prod");
        await calls.QuietAsync();

        _temp.Git("pack-refs", "--all");
        Assert.That(await calls.WaitAsync(Patience), Is.True, "no callback after git pack-refs");
        Assert.That(File.Exists(Path.Combine(_temp.Path, ".git", "refs", "heads", "env", "prod")), Is.False);
        await calls.QuietAsync();

        // A commit on a packed branch writes a loose ref again.
        var third = _temp.Commit("third", ("a.service", "a3"));
        Assert.That(await calls.WaitAsync(Patience), Is.True, "no callback after a commit on a packed branch");
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(third));
    }

    [Test]
    public async Task WatchBranch_stops_after_dispose_and_survives_a_failing_callback()
    {
        _temp.InitWithCli();
        _temp.Commit("first", ("a.service", "a1"));
        var git = _temp.CreateIntegration();
        var calls = new CallCounter();
        var watch = git.WatchBranch(() =>
        {
            calls.Signal();
            throw new InvalidOperationException("subscriber bug");
        });

        _temp.Commit("second", ("a.service", "a2"));
        Assert.That(await calls.WaitAsync(Patience), Is.True);
        await calls.QuietAsync();
        _temp.Commit("third", ("a.service", "a3"));
        Assert.That(await calls.WaitAsync(Patience), Is.True, "a throwing callback stopped the watch");
        await calls.QuietAsync();

        // A second watch of the same branch is the witness: once it has seen the next commit, so would the first have.
        var witness = new CallCounter();
        using var witnessWatch = git.WatchBranch(witness.Signal);
        watch.Dispose();
        var before = calls.Count;
        _temp.Commit("fourth", ("a.service", "a4"));
        Assert.That(await witness.WaitAsync(Patience), Is.True, "the witness saw no commit");

        Assert.That(calls.Count, Is.EqualTo(before));
    }

    [Test]
    public async Task WatchBranch_sees_a_repository_replaced_wholesale_by_polling_the_reference_files()
    {
        var replacement = ReplaceableRepository(out var newTip);
        var git = _temp.CreateIntegration(pollInterval: TimeSpan.FromMilliseconds(200));
        var calls = new CallCounter();
        using var watch = git.WatchBranch(calls.Signal);

        SwapGitDirectory(replacement);

        Assert.That(await calls.WaitAsync(Patience), Is.True, "the poll missed a replaced repository");
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(newTip));
    }

    [Test]
    public async Task WatchBranch_without_polling_misses_a_repository_replaced_wholesale()
    {
        // The control for the test above: inotify follows the old directory, so only the poll can see this.
        var replacement = ReplaceableRepository(out _);
        var git = _temp.CreateIntegration(pollInterval: Timeout.InfiniteTimeSpan);
        var calls = new CallCounter();
        using var watch = git.WatchBranch(calls.Signal);

        SwapGitDirectory(replacement);

        Assert.That(await calls.WaitAsync(TimeSpan.FromSeconds(2)), Is.False);
    }

    /// <summary>A repository with one commit, and a clone of it one commit ahead; returns the clone's path.</summary>
    private string ReplaceableRepository(out string newTip)
    {
        _temp.InitWithCli();
        _temp.Commit("first", ("a.service", "a1"));
        var clone = System.IO.Path.Combine(_temp.Root, "replacement");
        _temp.GitIn(_temp.Root, "clone", "-q", _temp.Path, clone);
        newTip = _temp.CommitIn(clone, "second", ("a.service", "a2"));
        return clone;
    }

    /// <summary>Replaces the repository's .git directory the way a re-clone does: old one moved away, new one moved in.</summary>
    private void SwapGitDirectory(string replacement)
    {
        var gitDirectory = System.IO.Path.Combine(_temp.Path, ".git");
        Directory.Move(gitDirectory, System.IO.Path.Combine(_temp.Root, "old-git"));
        Directory.Move(System.IO.Path.Combine(replacement, ".git"), gitDirectory);
    }

    /// <summary>Counts callbacks and lets a test wait for the next one.</summary>
    private sealed class CallCounter
    {
        private readonly SemaphoreSlim _signals = new(0);
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Signal()
        {
            Interlocked.Increment(ref _count);
            _signals.Release();
        }

        public Task<bool> WaitAsync(TimeSpan timeout) => _signals.WaitAsync(timeout);

        /// <summary>
        /// Waits until the callbacks of the last burst have come, then forgets them. A real quiet period: one commit's
        /// writes reach inotify as a burst of unknown length, and nothing marks its end.
        /// </summary>
        public async Task QuietAsync()
        {
            while (await _signals.WaitAsync(TimeSpan.FromMilliseconds(300)))
            {
            }
        }
    }
}
