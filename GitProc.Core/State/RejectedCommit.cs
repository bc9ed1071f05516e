namespace GitProc.State;

/// <summary>A commit that was not applied because one of its units is invalid or they form a cycle.</summary>
/// <param name="Commit">The commit's full hash.</param>
/// <param name="File">The unit file at fault, when one is.</param>
/// <param name="Line">The line at fault, when known.</param>
/// <param name="Reason">The error message.</param>
/// <param name="RejectedAt">When it was rejected.</param>
public sealed record RejectedCommit(string Commit, string? File, int? Line, string Reason, DateTimeOffset RejectedAt);
