namespace GitProc.UnitFiles;

/// <summary>Parses systemd-style <c>NAME.service</c> unit files.</summary>
public interface IUnitFileParser
{
    /// <summary>Parses one unit file.</summary>
    /// <param name="fileName">
    /// The file name (a path is allowed; its last segment names the service; a <c>..</c> segment is refused).
    /// </param>
    /// <param name="content">The file's text.</param>
    /// <returns>The parsed unit, with warnings for anything kept but not acted on.</returns>
    /// <exception cref="UnitFileParseException">The file is invalid; the message names file, line, key and value.</exception>
    UnitFile Parse(string fileName, string content);

    /// <summary>
    /// Parses one unit file from its bytes, decoded strictly as UTF-8 (a byte order mark is allowed): a line that is
    /// not valid UTF-8 is an error naming the line.
    /// </summary>
    /// <param name="fileName">The file name, as for <see cref="Parse(string, string)"/>.</param>
    /// <param name="content">The file's bytes, as stored (in a Git blob, say).</param>
    /// <returns>The parsed unit, with warnings for anything kept but not acted on.</returns>
    /// <exception cref="UnitFileParseException">The file is invalid; the message names file, line, key and value.</exception>
    UnitFile Parse(string fileName, ReadOnlySpan<byte> content);
}
