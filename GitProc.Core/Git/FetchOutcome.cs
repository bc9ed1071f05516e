namespace GitProc.Git;

/// <summary>What a fetch did to the watched branch.</summary>
public enum FetchOutcome
{
    /// <summary>No remote is configured (<see cref="GitOptions.RemoteUrl"/> is <see langword="null"/>); nothing was done.</summary>
    NoRemote,

    /// <summary>The watched branch already points at the remote's commit.</summary>
    UpToDate,

    /// <summary>The watched branch was moved forward to the remote's commit.</summary>
    FastForwarded,

    /// <summary>The watched branch contains the remote's commit and more (for example a local rollback); it was left alone.</summary>
    LocalAhead,

    /// <summary>
    /// The remote rewrote its history (a force-push, or a reset to an older commit) and the watched branch, which held
    /// nothing but what the remote had before, was moved to the remote's commit.
    /// </summary>
    Forced,
}
