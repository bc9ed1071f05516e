namespace GitProc.Git;

/// <summary>The verdict on one commit's signature.</summary>
/// <param name="Commit">The commit's full hash.</param>
/// <param name="Status">What the verification found.</param>
/// <param name="Description">
/// The verdict as shown by <c>status</c>, <c>sync</c>, <c>plan</c> and <c>check</c>: <c>unsigned …</c>,
/// <c>signed by unknown key SHA256:… …</c>, <c>bad signature (…)</c>, or for a trusted commit who signed it.
/// </param>
public sealed record CommitSignatureVerdict(string Commit, CommitSignatureStatus Status, string Description)
{
    /// <summary>The signing key: an SSH key's fingerprint (<c>SHA256:…</c>) or an OpenPGP key's, when known.</summary>
    public string? Key { get; init; }

    /// <summary>Who signed, when trusted: the allowed signers' principal, or the OpenPGP key's user id.</summary>
    public string? Signer { get; init; }

    /// <summary>Whether the commit may be applied under <see cref="GitOptions.RequireSignedCommits"/>.</summary>
    public bool IsTrusted => Status == CommitSignatureStatus.Trusted;
}
