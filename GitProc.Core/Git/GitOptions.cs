namespace GitProc.Git;

/// <summary>
/// The optional remote the watched branch follows, and how often GitProc looks for new commits.
/// </summary>
public sealed class GitOptions
{
    /// <summary>
    /// The remote repository to fetch from: a path, a <c>file://</c> URL, or an <c>https://</c>/<c>ssh://</c> URL as far as
    /// the native libgit2 build supports it. Default <see langword="null"/>: no remote, the local branch is the desired state.
    /// </summary>
    public string? RemoteUrl { get; set; }

    /// <summary>
    /// The branch of <see cref="RemoteUrl"/> to follow. Default <see langword="null"/>: the same name as
    /// <see cref="GitProcOptions.WatchBranch"/>.
    /// </summary>
    public string? RemoteBranch { get; set; }

    /// <summary>How often the daemon fetches <see cref="RemoteUrl"/>. Default 60 s.</summary>
    public TimeSpan FetchInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How often the watched branch's reference files are checked (size and modification time, no Git read) as a
    /// fallback to the file-system watch, which can miss events on network file systems or when the repository is
    /// replaced. Default 1 s.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
