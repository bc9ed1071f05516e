using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace GitProc.Git;

/// <summary>
/// Checks an allowed signers file (ssh-keygen(1), "ALLOWED SIGNERS") before it is trusted: every line that is not blank
/// or a comment must be <c>PRINCIPALS [OPTIONS] KEYTYPE BASE64-KEY [COMMENT]</c>, with known options and a key that
/// decodes to its type. ssh-keygen itself skips a line it cannot read (so a typo would silently drop a signer, or a
/// public key pasted without its principal would match nobody); checked here, the mistake is an error naming the line.
/// </summary>
internal static class AllowedSignersFile
{
    public const string Option = "Git:AllowedSignersFile";

    private static readonly string[] Options = ["cert-authority", "namespaces", "valid-after", "valid-before"];

    private static readonly HashSet<string> KeyTypes = new(StringComparer.Ordinal)
    {
        "ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
        "ssh-ed25519-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
        "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    };

    /// <summary>Throws unless <paramref name="path"/> is a readable, well-formed allowed signers file with at least one signer.</summary>
    /// <exception cref="GitException">The message names the option, the file and, for a bad line, its number and what is wrong.</exception>
    public static void Check(string path)
    {
        PrivateFile.RequireNotWritableByOthers(path, Option);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GitException($"Cannot read {path} ({Option}): {ex.Message}", ex);
        }

        var signers = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (Problem(line) is { } problem)
            {
                throw new GitException(string.Create(CultureInfo.InvariantCulture, $"{path}:{i + 1} ({Option}): {problem}"));
            }

            signers++;
        }

        if (signers == 0)
        {
            throw new GitException($"{path} ({Option}) lists no signer, so every signed commit would be rejected; add a line such as 'alice@example.com ssh-ed25519 AAAA…'.");
        }
    }

    /// <summary>What is wrong with one entry, or <see langword="null"/>.</summary>
    internal static string? Problem(string line)
    {
        var fields = Fields(line);
        if (fields is null)
        {
            return "a quote is not closed.";
        }

        if (KeyTypes.Contains(fields[0]))
        {
            return $"the line starts with the key type {fields[0]}: an entry starts with the signer's principal (the e-mail git commits with), as in 'alice@example.com {fields[0]} AAAA…'.";
        }

        var index = 1;
        if (fields.Count > 1 && !KeyTypes.Contains(fields[1]))
        {
            if (OptionProblem(fields[1]) is { } optionProblem)
            {
                return optionProblem;
            }

            index = 2;
        }

        if (fields.Count <= index)
        {
            return "no key: expected PRINCIPALS [OPTIONS] KEYTYPE KEY, such as 'alice@example.com ssh-ed25519 AAAA…'.";
        }

        var type = fields[index];
        if (!KeyTypes.Contains(type))
        {
            return $"'{type}' is not an SSH key type (such as ssh-ed25519 or ecdsa-sha2-nistp256).";
        }

        if (fields.Count <= index + 1)
        {
            return $"the {type} key itself (base64) is missing.";
        }

        return KeyProblem(type, fields[index + 1]);
    }

    /// <summary>The options field: comma-separated, each known, <c>namespaces</c>/<c>valid-*</c> with a value.</summary>
    private static string? OptionProblem(string field)
    {
        foreach (var option in SplitOutsideQuotes(field, ','))
        {
            var equals = option.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? option : option[..equals];
            if (!Options.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                return $"'{name}' is neither an SSH key type nor an option of an allowed signer ({string.Join(", ", Options)}).";
            }

            if (!name.Equals("cert-authority", StringComparison.OrdinalIgnoreCase) && (equals < 0 || option.Length == equals + 1))
            {
                return $"the option {name} needs a value, as in {name}=\"…\".";
            }
        }

        return null;
    }

    private static string? KeyProblem(string type, string base64)
    {
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            return $"the {type} key is not valid base64.";
        }

        // The blob starts with its own type as an SSH string: a key pasted whole under the wrong type name fails here.
        var length = blob.Length < 4 ? uint.MaxValue : BinaryPrimitives.ReadUInt32BigEndian(blob);
        return length <= blob.Length - 4 && Encoding.ASCII.GetString(blob, 4, (int)length) == type
            ? null
            : $"the key is not a {type} key.";
    }

    /// <summary>Whitespace-separated fields, where double quotes keep spaces in; <see langword="null"/> when a quote is left open.</summary>
    private static List<string>? Fields(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        foreach (var c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }

            if (!quoted && c is ' ' or '\t')
            {
                if (current.Length > 0)
                {
                    fields.Add(current.ToString());
                    current.Clear();
                }

                continue;
            }

            current.Append(c);
        }

        if (current.Length > 0)
        {
            fields.Add(current.ToString());
        }

        return quoted ? null : fields;
    }

    private static IEnumerable<string> SplitOutsideQuotes(string text, char separator)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"')
            {
                quoted = !quoted;
            }
            else if (text[i] == separator && !quoted)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }
}
