using System.Text;
using GitProc.Core.Tests.TestSupport;
using GitProc.Git;
using LibGit2Sharp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GitProc.Core.Tests.Git;

[TestFixture]
[CancelAfter(60_000)]
public sealed class GitIntegrationTests
{
    private TempGitRepository _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempGitRepository();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public async Task Init_creates_a_non_bare_repository_whose_HEAD_is_the_unborn_watched_branch()
    {
        var git = _temp.CreateIntegration(branch: "trunk");

        await git.InitAsync();

        Assert.That(Directory.Exists(Path.Combine(_temp.Path, ".git")), Is.True);
        Assert.That(_temp.Git("symbolic-ref", "HEAD"), Is.EqualTo("refs/heads/trunk"));
        Assert.That(await git.GetBranchTipAsync(), Is.Null);

        var first = _temp.Commit("first", ("a.service", "[Service]\nExecStart=/bin/true\n"));
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(first));
    }

    [Test]
    public async Task Init_at_an_explicit_path_creates_the_repository_there()
    {
        var git = _temp.CreateIntegration();
        var elsewhere = Path.Combine(_temp.Root, "other");

        await git.InitAsync(elsewhere);

        Assert.That(Repository.IsValid(elsewhere), Is.True);
        Assert.That(Repository.IsValid(_temp.Path), Is.False);
    }

    [Test]
    public async Task Init_where_a_repository_exists_is_an_error_naming_the_path()
    {
        var git = _temp.CreateIntegration();
        await git.InitAsync();
        var first = _temp.Commit("first", ("a.service", "x"));

        var error = Assert.ThrowsAsync<GitException>(() => git.InitAsync());

        Assert.That(error.Message, Is.EqualTo($"A Git repository already exists at {_temp.Path}."));
        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(first));
    }

    [Test]
    public void Operations_on_a_missing_repository_say_there_is_none_and_how_to_create_it()
    {
        var git = _temp.CreateIntegration();

        var error = Assert.ThrowsAsync<GitException>(() => git.GetBranchTipAsync());

        Assert.That(error.Message, Is.EqualTo($"No Git repository at {_temp.Path} (run 'gitproc init --repo {_temp.Path}' to create one)."));
        Assert.That(error.InnerException, Is.InstanceOf<LibGit2SharpException>());
        Assert.That(() => git.WatchBranch(() => { }), Throws.InstanceOf<GitException>().With.Message.StartsWith("No Git repository at"));
    }

    [Test]
    public async Task A_parent_directory_repository_is_not_used()
    {
        // /etc under etckeeper is a repository; /etc/gitproc/services must not silently become part of it.
        _temp.InitWithCli(_temp.Root);
        Directory.CreateDirectory(_temp.Path);
        var git = _temp.CreateIntegration();

        var error = Assert.ThrowsAsync<GitException>(() => git.GetBranchTipAsync());

        Assert.That(error.Message, Does.StartWith($"No Git repository at {_temp.Path}"));
        await git.InitAsync();
        Assert.That(await git.GetBranchTipAsync(), Is.Null);
    }

    [Test]
    public async Task GetBranchTip_returns_the_full_sha_of_any_branch_and_null_for_an_absent_one()
    {
        _temp.InitWithCli();
        var first = _temp.Commit("first", ("a.service", "x"));
        _temp.Git("branch", "feature/x");
        var second = _temp.Commit("second", ("a.service", "y"));
        var git = _temp.CreateIntegration();

        Assert.That(await git.GetBranchTipAsync(), Is.EqualTo(second));
        Assert.That(await git.GetBranchTipAsync("feature/x"), Is.EqualTo(first));
        Assert.That(await git.GetBranchTipAsync("nope"), Is.Null);
        Assert.That(second, Has.Length.EqualTo(40));
    }

    [Test]
    public void An_invalid_branch_name_is_an_error_naming_it()
    {
        _temp.InitWithCli();
        var git = _temp.CreateIntegration();

        Assert.That(() => git.GetBranchTipAsync("bad..name"), Throws.InstanceOf<GitException>().With.Message.EqualTo("'bad..name' is not a valid Git branch name."));
    }

    [Test]
    public async Task Unit_files_are_read_from_the_commit_ignoring_the_working_tree_subdirectories_and_other_files()
    {
        _temp.InitWithCli();
        var commit = _temp.Commit(
            "units",
            ("web.service", "[Service]\nExecStart=/bin/web\n"),
            ("db.service", "[Service]\nExecStart=/bin/db\n"),
            ("sub/nested.service", "[Service]\nExecStart=/bin/nested\n"),
            ("README.md", "docs"),
            ("web.service.bak", "old"));
        File.WriteAllText(Path.Combine(_temp.Path, "web.service"), "[Service]\nExecStart=/bin/edited\n");
        File.WriteAllText(Path.Combine(_temp.Path, "untracked.service"), "[Service]\nExecStart=/bin/new\n");
        File.WriteAllText(Path.Combine(_temp.Path, "staged.service"), "[Service]\nExecStart=/bin/staged\n");
        _temp.Git("add", "staged.service");
        File.Delete(Path.Combine(_temp.Path, "db.service"));
        var git = _temp.CreateIntegration();

        var listed = await git.ListUnitFilesAsync("main");
        var read = await git.ReadUnitFilesAsync(commit);
        var web = await git.ReadFileAsync(commit[..10], "web.service");

        Assert.That(listed.Select(f => f.FileName), Is.EqualTo(new[] { "db.service", "web.service" }));
        Assert.That(listed[1].BlobId, Is.EqualTo(_temp.Git("rev-parse", $"{commit}:web.service")));
        Assert.That(read.Select(f => f.FileName), Is.EqualTo(new[] { "db.service", "web.service" }));
        Assert.That(read.Select(f => f.BlobId), Is.EqualTo(listed.Select(f => f.BlobId)));
        Assert.That(Encoding.UTF8.GetString(read[1].Content), Is.EqualTo("[Service]\nExecStart=/bin/web\n"));
        Assert.That(Encoding.UTF8.GetString(web), Is.EqualTo("[Service]\nExecStart=/bin/web\n"));
        Assert.That(Encoding.UTF8.GetString(await git.ReadFileAsync(commit, "sub/nested.service")), Is.EqualTo("[Service]\nExecStart=/bin/nested\n"));
    }

    [Test]
    public async Task File_bytes_are_returned_exactly_as_committed()
    {
        _temp.InitWithCli();
        byte[] bytes = [0xEF, 0xBB, 0xBF, (byte)'[', (byte)'U', (byte)']', 0x0D, 0x0A, 0xFF, 0x00, 0x0A];
        File.WriteAllBytes(Path.Combine(_temp.Path, "odd.service"), bytes);
        var commit = _temp.Commit("bytes");
        var git = _temp.CreateIntegration();

        Assert.That(await git.ReadFileAsync(commit, "odd.service"), Is.EqualTo(bytes));
        Assert.That((await git.ReadUnitFilesAsync(commit))[0].Content, Is.EqualTo(bytes));
    }

    [Test]
    public void Reading_a_file_that_is_not_in_the_commit_is_an_error_naming_file_and_commit()
    {
        _temp.InitWithCli();
        var commit = _temp.Commit("one", ("a.service", "x"));
        File.WriteAllText(Path.Combine(_temp.Path, "b.service"), "only in the working tree");
        var git = _temp.CreateIntegration();

        var error = Assert.ThrowsAsync<GitException>(() => git.ReadFileAsync(commit, "b.service"));

        Assert.That(error.Message, Is.EqualTo($"There is no file b.service in commit {commit[..7]} of {_temp.Path}."));
        Assert.That(() => git.ReadFileAsync(commit, "../etc/passwd"), Throws.ArgumentException);
    }

    [Test]
    public async Task An_empty_tree_has_no_unit_files()
    {
        _temp.InitWithCli();
        var commit = _temp.Commit("empty");
        var git = _temp.CreateIntegration();

        Assert.That(await git.ListUnitFilesAsync(commit), Is.Empty);
        Assert.That(await git.GetChangesAsync(null, commit), Is.Empty);
    }

    [Test]
    public async Task Changes_between_commits_are_added_modified_and_deleted_and_a_rename_is_both()
    {
        _temp.InitWithCli();
        var before = _temp.Commit("before", ("a.service", "a1"), ("b.service", "b"), ("c.service", "same content"), ("keep.service", "k"), ("notes.txt", "1"));
        _temp.Git("mv", "c.service", "d.service");
        var after = _temp.Commit("after", ("a.service", "a2"), ("b.service", null), ("e.service", "e"), ("notes.txt", "2"), ("sub/x.service", "x"));
        var git = _temp.CreateIntegration();

        var changes = await git.GetChangesAsync(before, after);

        Assert.That(changes.Select(c => (c.FileName, c.Kind)), Is.EqualTo(new[]
        {
            ("a.service", GitChangeKind.Modified),
            ("b.service", GitChangeKind.Deleted),
            ("c.service", GitChangeKind.Deleted),
            ("d.service", GitChangeKind.Added),
            ("e.service", GitChangeKind.Added),
        }));
        Assert.That(changes[0].OldBlobId, Is.EqualTo(_temp.Git("rev-parse", $"{before}:a.service")));
        Assert.That(changes[0].NewBlobId, Is.EqualTo(_temp.Git("rev-parse", $"{after}:a.service")));
        Assert.That(changes[1].NewBlobId, Is.Null);
        Assert.That(changes[3].OldBlobId, Is.Null);

        var fromNothing = await git.GetChangesAsync(null, after);
        Assert.That(fromNothing.Select(c => (c.FileName, c.Kind)), Is.EqualTo(new[]
        {
            ("a.service", GitChangeKind.Added),
            ("d.service", GitChangeKind.Added),
            ("e.service", GitChangeKind.Added),
            ("keep.service", GitChangeKind.Added),
        }));
        Assert.That(await git.GetChangesAsync(after, after), Is.Empty);
    }

    [Test]
    public async Task A_mode_change_is_a_modification()
    {
        _temp.InitWithCli();
        var before = _temp.Commit("before", ("a.service", "a"));
        _temp.Git("update-index", "--chmod=+x", "a.service");
        _temp.Git("commit", "-q", "-m", "chmod");
        var after = _temp.Git("rev-parse", "HEAD");
        var git = _temp.CreateIntegration();

        var changes = await git.GetChangesAsync(before, after);

        Assert.That(changes.Select(c => (c.FileName, c.Kind)), Is.EqualTo(new[] { ("a.service", GitChangeKind.Modified) }));
    }

    [Test]
    public async Task GetCommit_resolves_short_shas_relative_expressions_and_branch_names()
    {
        _temp.InitWithCli();
        var first = _temp.Commit("first line\n\nbody text", ("a.service", "1"));
        var second = _temp.Commit("second", ("a.service", "2"));
        var git = _temp.CreateIntegration();

        var byShort = await git.GetCommitAsync(first[..7]);
        var byParent = await git.GetCommitAsync("HEAD~1");
        var byBranch = await git.GetCommitAsync("main");
        _temp.Git("tag", "-a", "v1", "-m", "release", first);
        var byTag = await git.GetCommitAsync("v1");

        Assert.That(byShort.Sha, Is.EqualTo(first));
        Assert.That(byShort.ShortSha, Is.EqualTo(first[..7]));
        Assert.That(byShort.Subject, Is.EqualTo("first line"));
        Assert.That(byShort.AuthorName, Is.EqualTo("Test Author"));
        Assert.That(byShort.AuthorEmail, Is.EqualTo("author@example.com"));
        Assert.That(byShort.When, Is.EqualTo(DateTimeOffset.Now).Within(TimeSpan.FromMinutes(5)));
        Assert.That(byParent.Sha, Is.EqualTo(first));
        Assert.That(byBranch.Sha, Is.EqualTo(second));
        Assert.That(byTag.Sha, Is.EqualTo(first));
    }

    [TestCase("xyz")]
    [TestCase("0123456789012345678901234567890123456789")]
    [TestCase("HEAD~5")]
    [TestCase("no-such-branch")]
    [TestCase("a..b")]
    public void GetCommit_with_an_unknown_commit_is_an_error_naming_it_and_the_repository(string commitish)
    {
        _temp.InitWithCli();
        _temp.Commit("first", ("a.service", "1"));
        var git = _temp.CreateIntegration();

        var error = Assert.ThrowsAsync<GitException>(() => git.GetCommitAsync(commitish));

        Assert.That(error.Message, Is.EqualTo($"Commit '{commitish}' not found in {_temp.Path}."));
        Assert.That(() => git.ListUnitFilesAsync(commitish), Throws.InstanceOf<GitException>().With.Message.EqualTo(error.Message));
    }

    [Test]
    public void A_tree_id_is_not_a_commit()
    {
        _temp.InitWithCli();
        _temp.Commit("first", ("a.service", "1"));
        var tree = _temp.Git("rev-parse", "HEAD^{tree}");
        var git = _temp.CreateIntegration();

        var error = Assert.ThrowsAsync<GitException>(() => git.GetCommitAsync(tree));

        Assert.That(error.Message, Does.StartWith($"Commit '{tree}' not found in {_temp.Path}"));
    }

    [Test]
    public void A_corrupt_object_is_a_GitException_saying_what_failed()
    {
        _temp.InitWithCli();
        var commit = _temp.Commit("first", ("a.service", "[Service]\nExecStart=/bin/true\n"));
        var blob = _temp.Git("rev-parse", $"{commit}:a.service");
        var objectFile = Path.Combine(_temp.Path, ".git", "objects", blob[..2], blob[2..]);
        File.SetAttributes(objectFile, FileAttributes.Normal);
        File.WriteAllText(objectFile, "this is not a zlib stream");
        var git = _temp.CreateIntegration();

        var error = Assert.ThrowsAsync<GitException>(() => git.ReadUnitFilesAsync(commit));

        Assert.That(error.Message, Does.StartWith($"Git failed to read the unit files of commit '{commit}' in {_temp.Path}: "));
        Assert.That(error.InnerException, Is.InstanceOf<LibGit2SharpException>());
        Assert.That(() => git.ReadFileAsync(commit, "a.service"), Throws.InstanceOf<GitException>());
    }

    [Test]
    public void A_corrupt_HEAD_commit_is_a_GitException()
    {
        _temp.InitWithCli();
        var commit = _temp.Commit("first", ("a.service", "x"));
        var objectFile = Path.Combine(_temp.Path, ".git", "objects", commit[..2], commit[2..]);
        File.SetAttributes(objectFile, FileAttributes.Normal);
        File.WriteAllBytes(objectFile, [1, 2, 3, 4, 5]);
        var git = _temp.CreateIntegration();

        Assert.That(() => git.GetCommitAsync("main"), Throws.InstanceOf<GitException>());
        Assert.That(() => git.ListUnitFilesAsync(commit), Throws.InstanceOf<GitException>());
        Assert.That(() => git.GetChangesAsync(null, commit), Throws.InstanceOf<GitException>());
    }

    [Test]
    public void AddGitProc_registers_GitIntegration_bound_to_the_options()
    {
        var services = new ServiceCollection()
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddGitProc(o => o.RepositoryPath = _temp.Path);
        using var provider = services.BuildServiceProvider();

        var git = provider.GetRequiredService<IGitIntegration>();

        Assert.That(git, Is.InstanceOf<GitIntegration>());
        Assert.That(git.RepositoryPath, Is.EqualTo(_temp.Path));
    }
}
