namespace GitProc.UnitFiles;

/// <summary>Parses systemd-style <c>NAME.service</c> unit files (CONTRACT §2).</summary>
public interface IUnitFileParser
{
    /// <summary>Parses one unit file.</summary>
    /// <param name="fileName">The file name (a path is allowed; its last segment names the service).</param>
    /// <param name="content">The file's text.</param>
    /// <returns>The parsed unit, with warnings for anything ignored.</returns>
    /// <exception cref="UnitFileParseException">The file is invalid; the message names file, line, key and value.</exception>
    UnitFile Parse(string fileName, string content);
}
