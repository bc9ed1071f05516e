namespace GitProc.UnitFiles;

/// <summary>The outcome of <see cref="SystemdWords.Next"/>.</summary>
internal enum WordStatus
{
    /// <summary>A word was extracted.</summary>
    Word,

    /// <summary>Only whitespace was left.</summary>
    End,

    /// <summary>The text cannot be split (an unbalanced quote, say).</summary>
    Error,
}
