namespace GitProc.UnitFiles;

/// <summary>An <c>EnvironmentFile=</c> entry.</summary>
/// <param name="Path">The file's path.</param>
/// <param name="Optional">The <c>-</c> prefix: a missing file is not an error.</param>
public sealed record EnvironmentFileReference(string Path, bool Optional);
