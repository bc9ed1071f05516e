namespace GitProc.Git;

/// <summary>A unit file in a commit's tree.</summary>
/// <param name="FileName">The file name, such as <c>web.service</c>.</param>
/// <param name="BlobId">The full SHA-1 of the file's blob; equal ids mean equal contents.</param>
public sealed record GitUnitFile(string FileName, string BlobId);
