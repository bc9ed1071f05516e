namespace GitProc.UnitFiles;

/// <summary>A non-fatal finding in a unit file, such as an unknown key.</summary>
/// <param name="FileName">The unit file.</param>
/// <param name="Line">The 1-based line number.</param>
/// <param name="Key">The key concerned, if any.</param>
/// <param name="Message">What was found, as a sentence.</param>
public sealed record UnitFileWarning(string FileName, int Line, string? Key, string Message)
{
    /// <inheritdoc />
    public override string ToString() => Key is null
        ? $"{FileName}:{Line}: {Message}"
        : $"{FileName}:{Line}: {Key}: {Message}";
}
