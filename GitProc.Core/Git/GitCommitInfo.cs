namespace GitProc.Git;

/// <summary>A commit, as shown to users.</summary>
/// <param name="Sha">The full 40-character SHA-1.</param>
/// <param name="ShortSha">The first 7 characters of <paramref name="Sha"/>.</param>
/// <param name="Subject">The first line of the commit message.</param>
/// <param name="AuthorName">The author's name.</param>
/// <param name="AuthorEmail">The author's e-mail address.</param>
/// <param name="When">The author date, with its original offset.</param>
public sealed record GitCommitInfo(string Sha, string ShortSha, string Subject, string AuthorName, string AuthorEmail, DateTimeOffset When);
