namespace GitProc.Validation;

/// <summary>A unit file to check: where it comes from and its bytes.</summary>
/// <param name="FileName">
/// The file name (<c>web.service</c>) or a path to it, shown as given in diagnostics; its last segment names the service.
/// </param>
/// <param name="Content">The file's bytes, as stored (UTF-8).</param>
public sealed record UnitSource(string FileName, byte[] Content);
