namespace GitProc.Git;

/// <summary>The result of <see cref="IGitIntegration.FetchAsync"/>.</summary>
/// <param name="Outcome">What happened to the watched branch.</param>
/// <param name="PreviousTip">The watched branch's commit before the fetch; <see langword="null"/> when it had none (or no remote).</param>
/// <param name="RemoteCommit">The commit fetched from the remote; <see langword="null"/> without a remote.</param>
/// <param name="Tip">The watched branch's commit after the fetch; <see langword="null"/> when it has none.</param>
public sealed record FetchResult(FetchOutcome Outcome, string? PreviousTip, string? RemoteCommit, string? Tip);
