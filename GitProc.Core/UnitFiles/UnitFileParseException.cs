namespace GitProc.UnitFiles;

/// <summary>
/// A unit file could not be parsed. <see cref="Errors"/> holds every error found in the file (each naming its line,
/// key and offending value); the message lists them one per line, and <see cref="FileName"/>, <see cref="Line"/>,
/// <see cref="Key"/>, <see cref="Value"/> and <see cref="Reason"/> describe the first.
/// </summary>
public sealed class UnitFileParseException : GitProcException
{
    /// <summary>Creates the exception for one error; the message is composed from the parts.</summary>
    /// <param name="fileName">The unit file.</param>
    /// <param name="line">The 1-based line, or 0 when the error concerns the whole file.</param>
    /// <param name="key">The key concerned, if any.</param>
    /// <param name="value">The offending value, if any.</param>
    /// <param name="reason">What is wrong, as a sentence.</param>
    public UnitFileParseException(string fileName, int line, string? key, string? value, string reason)
        : this([new UnitFileError(fileName, line, key, value, reason)])
    {
    }

    /// <summary>Creates the exception for several errors, in the order they were found.</summary>
    /// <param name="errors">The errors; at least one.</param>
    /// <exception cref="ArgumentException"><paramref name="errors"/> is empty.</exception>
    public UnitFileParseException(IReadOnlyList<UnitFileError> errors)
        : base(Compose(errors))
    {
        Errors = errors;
        var first = errors[0];
        FileName = first.FileName;
        Line = first.Line;
        Key = first.Key;
        Value = first.Value;
        Reason = first.Reason;
    }

    /// <summary>Every error found, in the order found (errors about the unit as a whole, such as a missing ExecStart=, last); at least one.</summary>
    public IReadOnlyList<UnitFileError> Errors { get; }

    /// <summary>What the file has that is kept but not acted on, found along with the errors.</summary>
    public IReadOnlyList<UnitFileWarning> Warnings { get; internal init; } = [];

    /// <summary>The unit file (of the first error).</summary>
    public string FileName { get; }

    /// <summary>The 1-based line number of the first error; 0 when it concerns the whole file.</summary>
    public int Line { get; }

    /// <summary>The key of the first error, if any.</summary>
    public string? Key { get; }

    /// <summary>The offending value of the first error, if any.</summary>
    public string? Value { get; }

    /// <summary>What is wrong (the first error), without the location.</summary>
    public string Reason { get; }

    private static string Compose(IReadOnlyList<UnitFileError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0)
        {
            throw new ArgumentException("A parse exception carries at least one error.", nameof(errors));
        }

        return string.Join('\n', errors.Select(static e => e.Message));
    }
}
