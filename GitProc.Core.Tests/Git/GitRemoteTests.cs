using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Git;

namespace GitProc.Core.Tests.Git;

/// <summary>
/// Following a remote beyond fast-forwards: a force-pushed (rewritten) history is followed when the branch holds nothing
/// of its own; a network fetch is bounded by <see cref="GitOptions.FetchTimeout"/>; a URL carrying a secret is refused.
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class GitRemoteTests
{
    private TempGitRepository _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempGitRepository();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public async Task A_force_pushed_remote_is_followed_and_reported_as_forced()
    {
        var upstream = _temp.InitWithCli(Path.Combine(_temp.Root, "upstream"));
        var first = _temp.CommitIn(upstream, "first", ("a.service", "a1"));
        var second = _temp.CommitIn(upstream, "second", ("a.service", "a2"));
        var git = _temp.CreateIntegration(remoteUrl: new Uri(upstream).AbsoluteUri);
        await git.InitAsync();
        await git.FetchAsync();

        // History rewritten: second is replaced by another commit on top of first.
        _temp.GitIn(upstream, "reset", "-q", "--hard", first);
        var rewritten = _temp.CommitIn(upstream, "second, amended", ("a.service", "a2-amended"));
        var result = await git.FetchAsync();

        Assert.That(result, Is.EqualTo(new FetchResult(FetchOutcome.Forced, second, rewritten, rewritten)));
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(rewritten));
        Assert.That(_temp.WorkFile("a.service"), Is.EqualTo("a2-amended"), "the clean working tree follows");

        // Reset back to an older commit: also a rewrite, not "local ahead".
        _temp.GitIn(upstream, "reset", "-q", "--hard", first);
        Assert.That(await git.FetchAsync(), Is.EqualTo(new FetchResult(FetchOutcome.Forced, rewritten, first, first)));
        Assert.That(await git.FetchAsync(), Is.EqualTo(new FetchResult(FetchOutcome.UpToDate, first, first, first)));
    }

    [Test]
    public async Task A_force_push_does_not_move_a_branch_with_commits_of_its_own()
    {
        var upstream = _temp.InitWithCli(Path.Combine(_temp.Root, "upstream"));
        var first = _temp.CommitIn(upstream, "first", ("a.service", "a1"));
        _temp.CommitIn(upstream, "second", ("a.service", "a2"));
        var git = _temp.CreateIntegration(remoteUrl: upstream);
        await git.InitAsync();
        await git.FetchAsync();
        var rollback = await git.RollbackAsync(first);

        _temp.GitIn(upstream, "reset", "-q", "--hard", first);
        var rewritten = _temp.CommitIn(upstream, "other", ("a.service", "other"));

        Assert.ThrowsAsync<GitException>(() => git.FetchAsync());
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(rollback.Sha), "the host's own rollback commit is never thrown away");
        Assert.That(_temp.Git("rev-parse", "refs/remotes/gitproc/main"), Is.EqualTo(rewritten));
    }

    [Test]
    public async Task A_failed_fetch_keeps_what_the_remote_had_so_a_later_force_push_is_still_recognized()
    {
        var upstream = _temp.InitWithCli(Path.Combine(_temp.Root, "upstream"));
        var first = _temp.CommitIn(upstream, "first", ("a.service", "a1"));
        var second = _temp.CommitIn(upstream, "second", ("a.service", "a2"));
        var git = _temp.CreateIntegration(remoteUrl: upstream);
        await git.InitAsync();
        await git.FetchAsync();
        var moved = upstream + ".moved";
        Directory.Move(upstream, moved);

        Assert.ThrowsAsync<GitException>(() => git.FetchAsync());
        Assert.That(_temp.Git("rev-parse", "refs/remotes/gitproc/main"), Is.EqualTo(second));

        Directory.Move(moved, upstream);
        _temp.GitIn(upstream, "reset", "-q", "--hard", first);
        Assert.That((await git.FetchAsync()).Outcome, Is.EqualTo(FetchOutcome.Forced));
    }

    [Test]
    public async Task A_server_that_accepts_and_never_answers_fails_the_fetch_at_the_timeout_and_leaves_no_process()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<Socket>();
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                held.Add(await silent.AcceptSocketAsync());
            }
        });
        var url = $"https://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/units.git";
        _temp.InitWithCli();
        var git = _temp.CreateIntegration(remoteUrl: url, configure: o => o.FetchTimeout = TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();

        var error = Assert.ThrowsAsync<GitException>(() => git.FetchAsync());

        Assert.That(error.Message, Is.EqualTo($"Fetching branch main from {url} into {_temp.Path} timed out after 1 s (Git:FetchTimeout); the transfer was stopped."));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "bounded by the timeout (generous for a loaded machine)");
        Assert.That(await ProcScan.WaitUntilAsync(() => ProcScan.FindByCommandLine(_temp.Path).Count == 0, TimeSpan.FromSeconds(5)), Is.True, "git was stopped");
        foreach (var socket in held)
        {
            socket.Dispose();
        }
    }

    [TestCase("https://deploy:s3cret-token@git.example.com/units.git", "https://***@git.example.com/units.git")]
    [TestCase("https://s3cret-token@git.example.com/units.git", "https://***@git.example.com/units.git")]
    [TestCase("ssh://git:s3cret-token@git.example.com/units.git", "ssh://git:***@git.example.com/units.git")]
    public void A_url_carrying_a_secret_is_refused_without_showing_it(string url, string shown)
    {
        _temp.InitWithCli();
        var git = _temp.CreateIntegration(remoteUrl: url);

        var error = Assert.ThrowsAsync<GitException>(() => git.FetchAsync());

        Assert.That(error.Message, Does.Contain(shown).And.Contain("Git:CredentialsFile").And.Not.Contain("s3cret"));
    }
}
