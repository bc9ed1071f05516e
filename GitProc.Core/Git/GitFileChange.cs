namespace GitProc.Git;

/// <summary>A unit file that differs between two commits. A rename is reported as a deletion and an addition.</summary>
/// <param name="FileName">The file name, such as <c>web.service</c>.</param>
/// <param name="Kind">Added, modified or deleted.</param>
/// <param name="OldBlobId">The blob in the older commit; <see langword="null"/> when added.</param>
/// <param name="NewBlobId">The blob in the newer commit; <see langword="null"/> when deleted.</param>
public sealed record GitFileChange(string FileName, GitChangeKind Kind, string? OldBlobId, string? NewBlobId);
