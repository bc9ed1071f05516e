namespace GitProc.UnitFiles;

/// <summary>One error in a unit file: where it is, what it concerns, and what is wrong.</summary>
/// <param name="FileName">The unit file.</param>
/// <param name="Line">The 1-based line, or 0 when the error concerns the whole file.</param>
/// <param name="Key">The key concerned, if any.</param>
/// <param name="Value">The offending value, if any.</param>
/// <param name="Reason">What is wrong, as a sentence, without the location.</param>
public sealed record UnitFileError(string FileName, int Line, string? Key, string? Value, string Reason)
{
    /// <summary>
    /// The error as one line: <c>FILE:LINE: KEY=VALUE: reason</c>, leaving out what does not apply, with the value's
    /// control characters escaped and a long value shortened.
    /// </summary>
    public string Message
    {
        get
        {
            var value = Value is null ? null : SystemdText.ForMessage(Value);
            var key = Key is null ? null : SystemdText.ForMessage(Key);
            var location = Line > 0 ? $"{FileName}:{Line}" : FileName;
            var subject = (key, value) switch
            {
                (null, null) => string.Empty,
                (not null, null) => $" {key}:",
                (null, not null) => $" '{value}':",
                _ => $" {key}={value}:",
            };
            return $"{location}:{subject} {Reason}";
        }
    }

    /// <inheritdoc />
    public override string ToString() => Message;
}
