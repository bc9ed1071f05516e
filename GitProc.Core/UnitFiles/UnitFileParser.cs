namespace GitProc.UnitFiles;

/// <summary>The default <see cref="IUnitFileParser"/>. PLACEHOLDER: replaced by the parser work.</summary>
public sealed class UnitFileParser : IUnitFileParser
{
    /// <summary>Parses one unit file without dependency injection, for tooling.</summary>
    /// <param name="fileName">The file name.</param>
    /// <param name="content">The file's text.</param>
    /// <returns>The parsed unit.</returns>
    public static UnitFile Parse(string fileName, string content) => throw new NotImplementedException();

    /// <inheritdoc />
    UnitFile IUnitFileParser.Parse(string fileName, string content) => Parse(fileName, content);
}
