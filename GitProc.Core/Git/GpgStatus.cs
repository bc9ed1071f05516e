namespace GitProc.Git;

/// <summary>
/// What <c>gpgv --status-fd</c> reported about a signature, from its machine-readable lines (GnuPG's doc/DETAILS), not
/// its prose.
/// </summary>
/// <param name="Good">The signer's user id of a <c>GOODSIG</c>.</param>
/// <param name="Fingerprint">The primary key's fingerprint of a <c>VALIDSIG</c>.</param>
/// <param name="Bad">The key (id and user id) of a <c>BADSIG</c>: the signed data was changed.</param>
/// <param name="Expired">What is wrong with a signature by a key that is not valid now (expired or revoked key, expired signature).</param>
/// <param name="MissingKey">The fingerprint (or else the key id) of a signature whose key the keyring does not hold.</param>
internal sealed record GpgStatus(string? Good, string? Fingerprint, string? Bad, string? Expired, string? MissingKey)
{
    private const string Prefix = "[GNUPG:] ";

    public static GpgStatus Parse(string statusLines)
    {
        string? good = null, fingerprint = null, bad = null, expired = null, missing = null, errorFingerprint = null;
        foreach (var line in statusLines.Split('\n'))
        {
            if (!line.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line[Prefix.Length..].TrimEnd('\r').Split(' ');
            var rest = fields.Length > 2 ? string.Join(' ', fields[2..]) : "";
            switch (fields[0])
            {
                case "GOODSIG":
                    good = rest;
                    break;
                case "VALIDSIG" when fields.Length > 1:
                    // The last field is the primary key's fingerprint (the signing subkey's comes first).
                    fingerprint = fields.Length > 10 ? fields[10] : fields[1];
                    break;
                case "BADSIG":
                    bad = $"{fields.ElementAtOrDefault(1)} ({rest})";
                    break;
                case "EXPKEYSIG":
                    expired = $"expired OpenPGP key {fields.ElementAtOrDefault(1)} ({rest})";
                    break;
                case "REVKEYSIG":
                    expired = $"revoked OpenPGP key {fields.ElementAtOrDefault(1)} ({rest})";
                    break;
                case "EXPSIG":
                    expired = $"an expired signature of OpenPGP key {fields.ElementAtOrDefault(1)} ({rest})";
                    break;
                case "ERRSIG":
                    // ERRSIG keyid pkalgo hashalgo class time rc [fingerprint]
                    errorFingerprint = fields.Length > 7 && fields[7] != "-" ? fields[7] : fields.ElementAtOrDefault(1);
                    break;
                case "NO_PUBKEY":
                    missing = fields.ElementAtOrDefault(1);
                    break;
            }
        }

        return new GpgStatus(good, fingerprint, bad, expired, missing is null ? null : errorFingerprint ?? missing);
    }
}
