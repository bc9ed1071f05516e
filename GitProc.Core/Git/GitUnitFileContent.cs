namespace GitProc.Git;

/// <summary>A unit file in a commit's tree, with its contents.</summary>
/// <param name="FileName">The file name, such as <c>web.service</c>.</param>
/// <param name="BlobId">The full SHA-1 of the file's blob; equal ids mean equal contents.</param>
/// <param name="Content">The file's bytes exactly as committed (the unit parser decodes them).</param>
public sealed record GitUnitFileContent(string FileName, string BlobId, byte[] Content);
