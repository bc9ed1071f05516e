using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace GitProc.UnitFiles;

/// <summary>
/// Turns an <c>Exec*=</c> value into commands as systemd.service(5) "Command lines" describes and systemd 252's
/// <c>config_parse_exec()</c> implements: words split by <see cref="SystemdWords"/>; special prefixes on the first
/// word (<c>-</c>, <c>@</c>, <c>:</c>, <c>+</c>, <c>!</c>, <c>!!</c>); a lone <c>;</c> word separates commands and
/// <c>\;</c> is a literal <c>;</c> argument.
/// </summary>
internal static class CommandLineSplitter
{
    /// <summary>Parses one value into one or more commands.</summary>
    /// <param name="value">The value after <c>=</c>, already trimmed and joined across continuation lines.</param>
    /// <param name="commands">Receives the commands, in order.</param>
    /// <param name="warnings">Receives sentences about things accepted but not acted on.</param>
    /// <param name="error">Why the value is not a command line.</param>
    /// <returns>Whether the value parsed.</returns>
    internal static bool TryParse(string value, List<UnitCommand> commands, List<string> warnings, [NotNullWhen(false)] out string? error)
    {
        var builder = new StringBuilder();
        var position = 0;
        var keptUnknownEscape = false;
        var semicolon = false;
        do
        {
            semicolon = false;
            var commandStart = position;
            while (commandStart < value.Length && SystemdText.IsWhitespace(value[commandStart]))
            {
                commandStart++;
            }

            var status = SystemdWords.Next(value, ref position, builder, out var firstWord, out error, ref keptUnknownEscape);
            if (status == WordStatus.Error)
            {
                error ??= "cannot be split into words";
                return false;
            }

            if (status == WordStatus.End)
            {
                break;
            }

            if (firstWord == ";")
            {
                semicolon = true;
                continue;
            }

            var prefixLength = ReadPrefixes(firstWord, out var ignoreFailure, out var separateArgv0);
            var prefixes = firstWord[..prefixLength];
            var path = firstWord[prefixLength..];
            if (path.Length == 0)
            {
                error = prefixLength == 0
                    ? "has an empty executable name; write the program's absolute path"
                    : $"has nothing after the prefix '{prefixes}'; write the program's path right after it, as in -/usr/bin/program";
                return false;
            }

            if (!ValidateExecutable(path, out error, warnings))
            {
                return false;
            }

            var words = new List<string>();
            if (!separateArgv0)
            {
                words.Add(path);
            }

            var commandEnd = value.Length;
            while (position < value.Length)
            {
                if (value[position] == ';' && (position + 1 == value.Length || SystemdText.IsWhitespace(value[position + 1])))
                {
                    commandEnd = position;
                    position++;
                    semicolon = true;
                    break;
                }

                if (value[position] == '\\' && position + 1 < value.Length && value[position + 1] == ';'
                    && (position + 2 == value.Length || SystemdText.IsWhitespace(value[position + 2])))
                {
                    position += 2;
                    while (position < value.Length && SystemdText.IsWhitespace(value[position]))
                    {
                        position++;
                    }

                    words.Add(";");
                    continue;
                }

                status = SystemdWords.Next(value, ref position, builder, out var word, out error, ref keptUnknownEscape);
                if (status == WordStatus.Error)
                {
                    error ??= "cannot be split into words";
                    return false;
                }

                if (status == WordStatus.End)
                {
                    break;
                }

                words.Add(word);
            }

            if (words.Count == 0)
            {
                error = $"uses the '@' prefix but gives no argv[0] after '{path}'; write '@{path} NAME ...' or drop the '@'";
                return false;
            }

            List<string> arguments;
            if (separateArgv0)
            {
                arguments = new List<string>(words.Count) { path };
                arguments.AddRange(words.Skip(1));
                warnings.Add($"The '@' prefix (argv[0] override) is not supported: GitProc runs {path} with its own path as argv[0] and drops the override '{words[0]}'.");
            }
            else
            {
                arguments = words;
            }

            for (var i = 0; i < prefixes.Length; i++)
            {
                switch (prefixes[i])
                {
                    case ':':
                        warnings.Add("The ':' prefix (no environment variable expansion) is accepted, but GitProc does not act on it: $VARIABLES in this command are expanded when it starts.");
                        break;
                    case '+':
                    case '!':
                        var shown = prefixes[i] == '!' && i + 1 < prefixes.Length && prefixes[i + 1] == '!' ? "!!" : prefixes[i].ToString();
                        i += shown.Length - 1;
                        warnings.Add($"The '{shown}' prefix (privilege and sandboxing control) is accepted, but GitProc does not act on it: the command runs with the unit's User= and Group=.");
                        break;
                }
            }

            var commandLine = SystemdText.Trim(value.AsSpan(commandStart, commandEnd - commandStart));
            if (prefixLength > 0 && commandLine.StartsWith(prefixes, StringComparison.Ordinal))
            {
                commandLine = commandLine[prefixLength..];
            }

            commands.Add(new UnitCommand(commandLine.ToString(), arguments, ignoreFailure) { Prefixes = prefixes });
        }
        while (semicolon);

        if (keptUnknownEscape)
        {
            warnings.Add("Unknown escape sequences are kept as written (a backslash and the character after it), as systemd does; write \\\\ for a literal backslash.");
        }

        error = null;
        return true;
    }

    /// <summary>Splits a command line into argv, for tooling and tests: the arguments of the single command.</summary>
    internal static IReadOnlyList<string> Split(string commandLine)
    {
        var commands = new List<UnitCommand>();
        if (!TryParse(commandLine, commands, [], out var error))
        {
            throw new FormatException($"'{commandLine}' {error}");
        }

        return commands.Count == 1
            ? commands[0].Arguments
            : throw new FormatException($"'{commandLine}' holds {commands.Count} commands, not one.");
    }

    /// <summary>systemd's prefix loop: each prefix at most once, '+', '!' and '!!' mutually exclusive.</summary>
    private static int ReadPrefixes(string word, out bool ignoreFailure, out bool separateArgv0)
    {
        ignoreFailure = false;
        separateArgv0 = false;
        bool noEnvironmentExpansion = false, fullyPrivileged = false, noSetuid = false, ambient = false;
        var i = 0;
        for (; i < word.Length; i++)
        {
            var c = word[i];
            if (c == '-' && !ignoreFailure)
            {
                ignoreFailure = true;
            }
            else if (c == '@' && !separateArgv0)
            {
                separateArgv0 = true;
            }
            else if (c == ':' && !noEnvironmentExpansion)
            {
                noEnvironmentExpansion = true;
            }
            else if (c == '+' && !(fullyPrivileged || noSetuid || ambient))
            {
                fullyPrivileged = true;
            }
            else if (c == '!' && !(fullyPrivileged || noSetuid || ambient))
            {
                noSetuid = true;
            }
            else if (c == '!' && !(fullyPrivileged || ambient))
            {
                noSetuid = false;
                ambient = true;
            }
            else
            {
                break;
            }
        }

        return i;
    }

    private static bool ValidateExecutable(string path, [NotNullWhen(false)] out string? error, List<string> warnings)
    {
        if (!SystemdText.IsSafe(path))
        {
            error = $"names the executable '{SystemdText.ForMessage(path)}', which contains a control character, quote or backslash; systemd refuses such paths, so rename the program or fix the quoting";
            return false;
        }

        if (path.EndsWith('/') || path == "." || path == ".." || path.EndsWith("/.", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal))
        {
            error = $"names the directory '{path}' as its executable; write the path of the program to run";
            return false;
        }

        // Absolute paths, plain names looked up in PATH, and values that are only known at start (specifiers,
        // variables) are what systemd accepts; systemd refuses other relative paths.
        if (path[0] != '/' && path[0] != '%' && path[0] != '$' && path.Contains('/', StringComparison.Ordinal))
        {
            warnings.Add($"The executable '{path}' is a relative path, which systemd refuses; GitProc runs it relative to the service's working directory. Prefer an absolute path.");
        }

        error = null;
        return true;
    }
}
