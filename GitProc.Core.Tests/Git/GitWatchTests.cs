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

        watch.Dispose();
        var before = calls.Count;
        _temp.Commit("fourth", ("a.service", "a4"));
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        Assert.That(calls.Count, Is.EqualTo(before));
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

        /// <summary>Waits until the callbacks of the last burst have come, then forgets them.</summary>
        public async Task QuietAsync()
        {
            while (await _signals.WaitAsync(TimeSpan.FromMilliseconds(300)))
            {
            }
        }
    }
}
