namespace GitProc.Git;

/// <summary>
/// The OpenPGP public keys of <see cref="GitOptions.GpgKeyringFile"/>, as <c>gpgv</c> reads them: binary packets. An
/// ASCII-armored export (<c>gpg --export --armor</c>, or a forge's <c>https://host/USER.gpg</c>), which <c>gpgv</c> does
/// not read, is decoded here, one or several blocks.
/// </summary>
internal static class GpgKeyringFile
{
    public const string Option = "Git:GpgKeyringFile";

    private const string ArmorBegin = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    private const string ArmorEnd = "-----END PGP PUBLIC KEY BLOCK-----";

    /// <summary>Reads the file and returns its keys as binary OpenPGP packets.</summary>
    /// <exception cref="GitException">
    /// The file is missing, unreadable, writable by others, empty, or neither OpenPGP packets nor an armored public key
    /// block; the message names the option and the file.
    /// </exception>
    public static byte[] Load(string path)
    {
        PrivateFile.RequireNotWritableByOthers(path, Option);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GitException($"Cannot read {path} ({Option}): {ex.Message}", ex);
        }

        var text = System.Text.Encoding.ASCII.GetString(bytes);
        if (text.Contains(ArmorBegin, StringComparison.Ordinal))
        {
            return Dearmor(text) ?? throw new GitException(
                $"{path} ({Option}) has an armored public key block that does not decode; export the keys again with 'gpg --export --armor KEYID'.");
        }

        // Every OpenPGP packet starts with a byte whose top bit is set; a key file starts with a public key packet.
        if (bytes.Length == 0 || (bytes[0] & 0x80) == 0)
        {
            throw new GitException(
                $"{path} ({Option}) holds no OpenPGP public keys; write it with 'gpg --export KEYID > {path}' (or --armor).");
        }

        return bytes;
    }

    /// <summary>The packets of every armored block (RFC 4880 §6.2): the base64 lines after the headers, without the checksum line.</summary>
    private static byte[]? Dearmor(string text)
    {
        using var packets = new MemoryStream();
        var position = 0;
        while (text.IndexOf(ArmorBegin, position, StringComparison.Ordinal) is var begin and >= 0)
        {
            var end = text.IndexOf(ArmorEnd, begin, StringComparison.Ordinal);
            if (end < 0)
            {
                return null;
            }

            var lines = text[(begin + ArmorBegin.Length)..end].Split('\n').Select(static l => l.Trim()).ToList();

            // Headers (Version:, Comment:) end at the first blank line; base64 has no ':', so lines before a blank line
            // that all have one are headers, and otherwise the base64 starts at once.
            var blank = lines.FindIndex(1, static l => l.Length == 0);
            var bodyStart = blank >= 0 && lines.Skip(1).Take(blank - 1).All(static l => l.Contains(':', StringComparison.Ordinal)) ? blank + 1 : 1;
            var body = lines.Skip(bodyStart).Where(static l => l.Length > 0 && !l.StartsWith('='));
            try
            {
                packets.Write(Convert.FromBase64String(string.Concat(body)));
            }
            catch (FormatException)
            {
                return null;
            }

            position = end + ArmorEnd.Length;
        }

        return packets.Length > 0 ? packets.ToArray() : null;
    }
}
