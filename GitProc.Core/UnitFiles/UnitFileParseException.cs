namespace GitProc.UnitFiles;

/// <summary>
/// A unit file could not be parsed. The message names the file, the line, the key and the offending value,
/// so a person can find and fix it.
/// </summary>
public sealed class UnitFileParseException : GitProcException
{
    /// <summary>Creates the exception; the message is composed from the parts.</summary>
    /// <param name="fileName">The unit file.</param>
    /// <param name="line">The 1-based line, or 0 when the error concerns the whole file.</param>
    /// <param name="key">The key concerned, if any.</param>
    /// <param name="value">The offending value, if any.</param>
    /// <param name="reason">What is wrong, as a sentence.</param>
    public UnitFileParseException(string fileName, int line, string? key, string? value, string reason)
        : base(Compose(fileName, line, key, value, reason))
    {
        FileName = fileName;
        Line = line;
        Key = key;
        Value = value;
        Reason = reason;
    }

    /// <summary>The unit file.</summary>
    public string FileName { get; }

    /// <summary>The 1-based line number; 0 when the error concerns the whole file.</summary>
    public int Line { get; }

    /// <summary>The key concerned, if any.</summary>
    public string? Key { get; }

    /// <summary>The offending value, if any.</summary>
    public string? Value { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }

    // The value is shown with control characters escaped and shortened, so the message stays one readable line.
    private static string Compose(string fileName, int line, string? key, string? value, string reason)
    {
        value = value is null ? null : SystemdText.ForMessage(value);
        var location = line > 0 ? $"{fileName}:{line}" : fileName;
        var subject = (key, value) switch
        {
            (null, null) => string.Empty,
            (not null, null) => $" {key}:",
            (null, not null) => $" '{value}':",
            _ => $" {key}={value}:",
        };
        return $"{location}:{subject} {reason}";
    }
}
