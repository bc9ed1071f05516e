namespace GitProc.Supervision;

/// <summary>Why the state could not be saved, and since when saves have been failing.</summary>
/// <param name="Message">The last failure's message.</param>
/// <param name="Since">When the first of the failures in a row happened.</param>
public sealed record StateSaveError(string Message, DateTimeOffset Since);
