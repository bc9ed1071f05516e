namespace GitProc.Git;

/// <summary>How commits are named to people: by the first seven characters of their hash, as <c>git log --oneline</c>.</summary>
public static class CommitText
{
    private const int ShortLength = 7;

    /// <summary>The short form of <paramref name="sha"/> (the whole of it when shorter).</summary>
    /// <param name="sha">A commit's hash.</param>
    /// <returns>Its first seven characters.</returns>
    public static string Short(string sha) => sha.Length > ShortLength ? sha[..ShortLength] : sha;
}
