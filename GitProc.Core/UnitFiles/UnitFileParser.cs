using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Microsoft.Extensions.Options;

namespace GitProc.UnitFiles;

/// <summary>
/// The default <see cref="IUnitFileParser"/>: systemd.syntax(7) and the keys GitProc knows. Stateless and
/// thread-safe; the static <see cref="Parse(string, string)"/> serves tooling that does not use dependency injection.
/// Every error of a file is reported, not only the first: <see cref="UnitFileParseException.Errors"/> lists them.
/// </summary>
public sealed class UnitFileParser : IUnitFileParser
{
    private const string Suffix = ".service";

    // systemd's UNIT_NAME_MAX is 256 bytes including the terminating NUL.
    private const int MaxFileNameLength = 255;

    private static readonly UnitFileOptions Strict = new();

    private readonly UnitFileOptions _options;

    /// <summary>Creates a parser with the default options: a key neither systemd nor GitProc knows is an error.</summary>
    public UnitFileParser()
        : this(Strict)
    {
    }

    /// <summary>Creates a parser with the given options.</summary>
    /// <param name="options">How strictly unit files are read; the object is read on each parse.</param>
    public UnitFileParser(UnitFileOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Creates a parser with the options of dependency injection (<c>GitProc:UnitFiles</c>).</summary>
    /// <param name="options">How strictly unit files are read.</param>
    public UnitFileParser(IOptions<UnitFileOptions> options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value)
    {
    }

    /// <summary>Parses one unit file without dependency injection, for tooling.</summary>
    /// <param name="fileName">
    /// The file name; a path is allowed and its last segment names the service, but a path with a <c>..</c>
    /// segment is refused.
    /// </param>
    /// <param name="content">The file's text.</param>
    /// <returns>The parsed unit, with warnings for anything kept but not acted on.</returns>
    /// <exception cref="UnitFileParseException">The file is invalid; the message names file, line, key and value of every error.</exception>
    public static UnitFile Parse(string fileName, string content) => Parse(fileName, content, Strict);

    /// <summary>Parses one unit file without dependency injection, with the given options.</summary>
    /// <param name="fileName">The file name, as for <see cref="Parse(string, string)"/>.</param>
    /// <param name="content">The file's text.</param>
    /// <param name="options">How strictly to read it; <see langword="null"/> for the defaults (unknown keys are errors).</param>
    /// <returns>The parsed unit, with warnings for anything kept but not acted on.</returns>
    /// <exception cref="UnitFileParseException">The file is invalid; the message names file, line, key and value of every error.</exception>
    public static UnitFile Parse(string fileName, string content, UnitFileOptions? options)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(content);
        var session = StartSession(fileName, options);
        var start = content.Length > 0 && content[0] == '\uFEFF' ? 1 : 0;
        session.Read(content, start);
        return session.Build();
    }

    /// <summary>
    /// Parses one unit file from its bytes, which must be UTF-8 (a byte order mark is allowed); a line that is not
    /// valid UTF-8 is an error naming that line.
    /// </summary>
    /// <param name="fileName">The file name, as for <see cref="Parse(string, string)"/>.</param>
    /// <param name="content">The file's bytes.</param>
    /// <returns>The parsed unit.</returns>
    /// <exception cref="UnitFileParseException">The file is invalid; the message names file, line, key and value of every error.</exception>
    public static UnitFile Parse(string fileName, ReadOnlySpan<byte> content) => Parse(fileName, content, Strict);

    /// <summary>Parses one unit file from its bytes, as <see cref="Parse(string, ReadOnlySpan{byte})"/>, with the given options.</summary>
    /// <param name="fileName">The file name, as for <see cref="Parse(string, string)"/>.</param>
    /// <param name="content">The file's bytes.</param>
    /// <param name="options">How strictly to read it; <see langword="null"/> for the defaults (unknown keys are errors).</param>
    /// <returns>The parsed unit.</returns>
    /// <exception cref="UnitFileParseException">The file is invalid; the message names file, line, key and value of every error.</exception>
    public static UnitFile Parse(string fileName, ReadOnlySpan<byte> content, UnitFileOptions? options)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var session = StartSession(fileName, options);
        if (content.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            content = content[3..];
        }

        if (!Utf8.IsValid(content))
        {
            // The one error that ends the parse early: what the rest of the file says cannot be read reliably.
            ThrowInvalidUtf8(fileName, content);
        }

        session.Read(Encoding.UTF8.GetString(content), 0);
        return session.Build();
    }

    /// <summary>
    /// Whether <paramref name="name"/> is a valid service name: non-empty, at most 247 characters,
    /// only <c>[A-Za-z0-9:_.@-]</c>, not starting with <c>.</c>. Useful wherever a name arrives from outside
    /// (the CLI, the IPC socket).
    /// </summary>
    /// <param name="name">The name, without <c>.service</c>.</param>
    /// <returns>Whether it is valid.</returns>
    public static bool IsValidServiceName(string? name) => name is not null && NameProblem(name) is null;

    /// <inheritdoc />
    UnitFile IUnitFileParser.Parse(string fileName, string content) => Parse(fileName, content, _options);

    /// <inheritdoc />
    UnitFile IUnitFileParser.Parse(string fileName, ReadOnlySpan<byte> content) => Parse(fileName, content, _options);

    /// <summary>
    /// A session for the file: a path that is not a unit file ends the parse at once; an invalid service name is
    /// recorded, so the file's other errors are reported with it.
    /// </summary>
    private static UnitFileParseSession StartSession(string fileName, UnitFileOptions? options)
    {
        var name = ServiceNameFromFileName(fileName);
        var session = new UnitFileParseSession(fileName, name, options ?? Strict);
        if (NameProblem(name) is { } problem)
        {
            session.AddError(0, null, null, problem);
        }

        return session;
    }

    private static string ServiceNameFromFileName(string fileName)
    {
        if (fileName.Length == 0)
        {
            throw new UnitFileParseException(fileName, 0, null, null, "The file name is empty; unit files are named NAME.service.");
        }

        var lastSlash = fileName.LastIndexOf('/');
        var segment = fileName[(lastSlash + 1)..];
        foreach (var part in fileName.Split('/'))
        {
            if (part == "..")
            {
                throw new UnitFileParseException(
                    fileName,
                    0,
                    null,
                    null,
                    "The path goes up a directory ('..'): a unit must be named by its own file, so give the file's own path (for example its full path) instead.");
            }
        }

        if (!segment.EndsWith(Suffix, StringComparison.Ordinal))
        {
            throw new UnitFileParseException(
                fileName,
                0,
                null,
                null,
                segment.Length == 0
                    ? "The path ends with '/', so it names a directory, not a unit file; unit files are named NAME.service."
                    : $"'{SystemdText.ForMessage(segment)}' is not a service unit: GitProc only runs files named NAME.service; rename it or move it out of the repository.");
        }

        return segment[..^Suffix.Length];
    }

    private static string? NameProblem(string name)
    {
        if (name.Length == 0)
        {
            return "The service name is empty: the file is called just '.service'; name it NAME.service.";
        }

        if (name.Length + Suffix.Length > MaxFileNameLength)
        {
            return $"The service name is {name.Length} characters long; with '.service' a unit name may have at most {MaxFileNameLength} characters.";
        }

        if (name[0] == '.')
        {
            return $"The service name '{SystemdText.ForMessage(name)}' starts with '.', which is not allowed (it would be a hidden file); rename the file.";
        }

        foreach (var rune in name.EnumerateRunes())
        {
            if (!(rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is ':' or '_' or '.' or '@' or '-')))
            {
                var shown = rune.IsAscii && !char.IsControl((char)rune.Value)
                    ? $"'{rune}'"
                    : Rune.IsControl(rune) || rune == Rune.ReplacementChar || Rune.GetUnicodeCategory(rune) is System.Globalization.UnicodeCategory.Format
                        ? $"U+{rune.Value:X4}"
                        : $"'{rune}' (U+{rune.Value:X4})";
                return $"The service name '{SystemdText.ForMessage(name)}' contains {shown}; a service name may contain only letters A-Z and a-z, digits and ':', '_', '.', '@', '-'. Rename the file.";
            }
        }

        return null;
    }

    private static void ThrowInvalidUtf8(string fileName, ReadOnlySpan<byte> content)
    {
        var lineNumber = 1;
        var lineStart = 0;
        for (var i = 0; i <= content.Length; i++)
        {
            var atEnd = i == content.Length;
            if (!atEnd && content[i] != (byte)'\n' && content[i] != (byte)'\r')
            {
                continue;
            }

            var line = content[lineStart..i];
            if (!Utf8.IsValid(line))
            {
                var column = 0;
                while (column < line.Length && Rune.DecodeFromUtf8(line[column..], out _, out var consumed) == OperationStatus.Done)
                {
                    column += consumed;
                }

                var shown = Encoding.UTF8.GetString(line);
                throw new UnitFileParseException(
                    fileName,
                    lineNumber,
                    null,
                    shown,
                    $"The line is not valid UTF-8 (byte 0x{line[column]:X2} at byte {column + 1}); save the file as UTF-8.");
            }

            if (atEnd)
            {
                break;
            }

            if (content[i] == (byte)'\r' && i + 1 < content.Length && content[i + 1] == (byte)'\n')
            {
                i++;
            }

            lineNumber++;
            lineStart = i + 1;
        }

        // Unreachable when the whole content is invalid, but keep the contract of throwing.
        throw new UnitFileParseException(fileName, 0, null, null, "The file is not valid UTF-8; save it as UTF-8.");
    }
}
