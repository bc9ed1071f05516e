using System.Diagnostics;
using GitProc.Git;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.Git;

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

    public string CommitIn(string path, string message, params (string Name, string? Content)[] files)
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
        GitIn(path, "commit", "-q", "--allow-empty", "-m", message);
        return GitIn(path, "rev-parse", "HEAD");
    }

    public string WorkFile(string name) => File.ReadAllText(System.IO.Path.Combine(Path, name));

    public string Git(params string[] arguments) => GitIn(Path, arguments);

    /// <summary>Runs git in <paramref name="directory"/> with a private HOME and a fixed identity; returns trimmed stdout.</summary>
    public string GitIn(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["HOME"] = System.IO.Path.Combine(Root, "home");
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_AUTHOR_NAME"] = "Test Author";
        start.Environment["GIT_AUTHOR_EMAIL"] = "author@example.com";
        start.Environment["GIT_COMMITTER_NAME"] = "Test Author";
        start.Environment["GIT_COMMITTER_EMAIL"] = "author@example.com";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"git {string.Join(' ', arguments)} did not finish in 30 s");
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.Result.Trim();
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
