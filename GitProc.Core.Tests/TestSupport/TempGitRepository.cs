using GitProc.Git;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>A throwaway directory for Git repositories, driven with the real git CLI; deleted on dispose.</summary>
internal sealed class TempGitRepository : IDisposable
{
    public TempGitRepository()
    {
        Root = Directory.CreateTempSubdirectory("gitproc-git-").FullName;
        Path = System.IO.Path.Combine(Root, "services");
        Directory.CreateDirectory(System.IO.Path.Combine(Root, "home"));
    }

    public string Root { get; }

    /// <summary>The repository's working directory.</summary>
    public string Path { get; }

    public GitIntegration CreateIntegration(string? path = null, string branch = "main", string? remoteUrl = null, string? remoteBranch = null, TimeSpan? pollInterval = null, GitProc.Metrics.GitProcMetrics? metrics = null, Action<GitOptions>? configure = null)
    {
        var options = new GitProcOptions { RepositoryPath = path ?? Path, WatchBranch = branch };
        options.Git.RemoteUrl = remoteUrl;
        options.Git.RemoteBranch = remoteBranch;
        options.Git.PollInterval = pollInterval ?? options.Git.PollInterval;
        configure?.Invoke(options.Git);
        return new GitIntegration(Options.Create(options), TimeProvider.System, NullLogger<GitIntegration>.Instance, metrics);
    }

    /// <summary>Creates a repository with the git CLI, on branch <paramref name="branch"/>.</summary>
    public string InitWithCli(string? path = null, string branch = "main")
    {
        path ??= Path;
        Directory.CreateDirectory(path);
        GitIn(path, "init", "-q", "-b", branch);
        return path;
    }

    /// <summary>Writes the files (null content deletes), stages everything and commits; returns the new commit's SHA-1.</summary>
    public string Commit(string message, params (string Name, string? Content)[] files) => CommitIn(Path, message, files);

    public string CommitIn(string path, string message, params (string Name, string? Content)[] files) => CommitCore(path, message, [], files);

    /// <summary>
    /// As <see cref="Commit"/>, signed (<c>git commit -S</c>) with <paramref name="signing"/>: git's <c>-c</c> settings
    /// naming the format and key (<see cref="TestSupport.SshSigningKey.GitSettings"/>).
    /// </summary>
    public string SignedCommit(string[] signing, string message, params (string Name, string? Content)[] files) =>
        SignedCommitIn(Path, signing, message, files);

    public string SignedCommitIn(string path, string[] signing, string message, params (string Name, string? Content)[] files) =>
        CommitCore(path, message, signing, files);

    /// <summary>Variables set for every git command, such as <c>GNUPGHOME</c> for OpenPGP signing.</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    private string CommitCore(string path, string message, string[] signing, (string Name, string? Content)[] files)
    {
        foreach (var (name, content) in files)
        {
            var file = System.IO.Path.Combine(path, name);
            if (content is null)
            {
                File.Delete(file);
            }
            else
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
                File.WriteAllText(file, content);
            }
        }

        GitIn(path, "add", "-A");
        GitIn(path, signing.Length == 0
            ? ["commit", "-q", "--allow-empty", "-m", message]
            : [.. signing, "commit", "-S", "-q", "--allow-empty", "-m", message]);
        return GitIn(path, "rev-parse", "HEAD");
    }

    public string WorkFile(string name) => File.ReadAllText(System.IO.Path.Combine(Path, name));

    public string Git(params string[] arguments) => GitIn(Path, arguments);

    /// <summary>Runs git in <paramref name="directory"/> with a private HOME and a fixed identity; returns trimmed stdout.</summary>
    public string GitIn(string directory, params string[] arguments)
    {
        var environment = new Dictionary<string, string>(Environment, StringComparer.Ordinal)
        {
            ["HOME"] = System.IO.Path.Combine(Root, "home"),
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_AUTHOR_NAME"] = "Test Author",
            ["GIT_AUTHOR_EMAIL"] = "author@example.com",
            ["GIT_COMMITTER_NAME"] = "Test Author",
            ["GIT_COMMITTER_EMAIL"] = "author@example.com",
        };
        return Tools.Run("git", environment, directory, arguments).Trim();
    }

    public void Dispose()
    {
        // Git makes its objects read-only; deleting them needs write permission on files for non-root users.
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }

        Directory.Delete(Root, recursive: true);
    }
}
