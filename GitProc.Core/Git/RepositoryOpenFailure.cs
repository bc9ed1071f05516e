using LibGit2Sharp;

namespace GitProc.Git;

/// <summary>
/// Why a repository did not open, in words its owner can act on. libgit2 says "not found" alike for a missing path, a
/// plain directory and a directory the daemon may not read, and the remedy differs for each.
/// </summary>
internal static class RepositoryOpenFailure
{
    /// <summary>The exception for a failed open of the repository at <paramref name="path"/>.</summary>
    public static GitException Describe(string path, LibGit2SharpException error)
    {
        var init = $"run 'gitproc init --repo {path}'";
        try
        {
            // lstat, unlike Directory.Exists, tells "no such path" from "not allowed to look".
            if ((File.GetAttributes(path) & FileAttributes.Directory) == 0)
            {
                return Unavailable($"No Git repository at {path}: it is a file, not a directory.", error);
            }

            ReadableOrThrow(path);
            var gitDirectory = Path.Combine(path, ".git");
            if (Directory.Exists(gitDirectory))
            {
                ReadableOrThrow(gitDirectory);
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Unavailable($"No Git repository at {path} ({init} to create one).", error);
        }
        catch (UnauthorizedAccessException)
        {
            return Unavailable($"Cannot open the Git repository at {path}: permission denied (the daemon runs as {Environment.UserName}).", error);
        }
        catch (IOException ex)
        {
            return new GitException($"Cannot open the Git repository at {path}: {ex.Message}", error);
        }

        if (error.Message.Contains("not owned by current user", StringComparison.Ordinal))
        {
            // libgit2's safe.directory check, as git's: refused until its owner or the configuration changes.
            return Unavailable(
                $"Cannot open the Git repository at {path}: it is not owned by the user the daemon runs as ({Environment.UserName}), and Git refuses such repositories; change its owner, or run 'git config --global --add safe.directory {path}' as {Environment.UserName}.",
                error);
        }

        return error is RepositoryNotFoundException
            ? Unavailable($"No Git repository at {path}: the directory is not a Git repository ({init} to make it one).", error)
            : new GitException($"Cannot open the Git repository at {path}: {error.Message}", error);
    }

    private static void ReadableOrThrow(string directory)
    {
        using var entries = Directory.EnumerateFileSystemEntries(directory).GetEnumerator();
        _ = entries.MoveNext();
    }

    private static GitException Unavailable(string message, Exception error) => new(message, error) { RepositoryUnavailable = true };
}
