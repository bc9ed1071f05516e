namespace GitProc.Git;

/// <summary>How a unit file differs between two commits.</summary>
public enum GitChangeKind
{
    /// <summary>The file exists only in the newer commit.</summary>
    Added,

    /// <summary>The file exists in both commits with different contents or mode.</summary>
    Modified,

    /// <summary>The file exists only in the older commit.</summary>
    Deleted,
}
