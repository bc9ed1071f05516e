namespace GitProc.State;

/// <summary>A unit file as it was applied: its name and its text.</summary>
/// <param name="FileName">The file name (<c>NAME.service</c>).</param>
/// <param name="Content">The unit's text.</param>
public sealed record UnitSnapshot(string FileName, string Content);
