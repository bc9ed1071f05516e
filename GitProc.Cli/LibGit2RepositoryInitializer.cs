using LibGit2Sharp;

namespace GitProc.Cli;

/// <summary>
/// <c>gitproc init</c> through LibGit2Sharp directly: the CLI's client commands build no DI container, which
/// keeps them fast to start (and ahead-of-time compilable); the daemon uses IGitIntegration.
/// </summary>
internal sealed class LibGit2RepositoryInitializer : IRepositoryInitializer
{
    public bool Exists(string path) =>
        Directory.Exists(path) && (Repository.IsValid(path) || Directory.Exists(Path.Combine(path, ".git")));

    public void Initialize(string path, string branch)
    {
        var gitDirectory = Repository.Init(path);

        // The daemon watches `main` by default; don't leave HEAD on whatever init.defaultBranch says.
        File.WriteAllText(Path.Combine(gitDirectory, "HEAD"), $"ref: refs/heads/{branch}\n");
    }
}
