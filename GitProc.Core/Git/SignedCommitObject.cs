using System.Text;

namespace GitProc.Git;

/// <summary>
/// A commit object split as <c>git verify-commit</c> splits it: the signature (the value of the <c>gpgsig</c> header, its
/// continuation lines unindented) and the signed payload (the object with that header and its continuation lines taken
/// out, byte for byte).
/// </summary>
/// <param name="Payload">What the signature covers.</param>
/// <param name="Signature">The signature, ending with a newline; <see langword="null"/> when the commit is unsigned.</param>
internal sealed record SignedCommitObject(byte[] Payload, string? Signature)
{
    private static readonly byte[] SignatureHeader = "gpgsig "u8.ToArray();

    /// <summary>Splits a raw commit object (as <c>git cat-file commit</c> prints it).</summary>
    public static SignedCommitObject Parse(byte[] raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var payload = new MemoryStream(raw.Length);
        var signature = new StringBuilder();
        var found = false;
        var inSignature = false;
        var position = 0;
        while (position < raw.Length)
        {
            var newline = Array.IndexOf(raw, (byte)'\n', position);
            var end = newline < 0 ? raw.Length : newline + 1;
            var line = raw.AsSpan(position, end - position);
            position = end;
            if (line.Length == 1 && line[0] == (byte)'\n')
            {
                // The headers end at the first blank line; the message after it is signed as it is.
                payload.Write(line);
                payload.Write(raw.AsSpan(position));
                break;
            }

            if (!found && line.StartsWith(SignatureHeader))
            {
                found = inSignature = true;
                signature.Append(Encoding.UTF8.GetString(line[SignatureHeader.Length..]).TrimEnd('\n')).Append('\n');
                continue;
            }

            if (inSignature && line.Length > 0 && line[0] == (byte)' ')
            {
                signature.Append(Encoding.UTF8.GetString(line[1..]).TrimEnd('\n')).Append('\n');
                continue;
            }

            inSignature = false;
            payload.Write(line);
        }

        return new SignedCommitObject(payload.ToArray(), found ? signature.ToString() : null);
    }
}
