namespace GitProc.Git;

/// <summary>What verifying a commit's signature found (<see cref="ICommitSignatureVerifier"/>).</summary>
public enum CommitSignatureStatus
{
    /// <summary>Signed by a key that <see cref="GitOptions.AllowedSignersFile"/> or <see cref="GitOptions.GpgKeyringFile"/> holds, and the signature verifies.</summary>
    Trusted,

    /// <summary>The commit carries no signature.</summary>
    Unsigned,

    /// <summary>The signature verifies, but with a key no trust source holds.</summary>
    UnknownKey,

    /// <summary>The signature does not verify: the commit was changed after signing, or the signature is malformed or for another namespace.</summary>
    BadSignature,

    /// <summary>
    /// Signed, but not in a way that can be trusted: by an expired or revoked key, with a kind of signature for which no
    /// trust source is set (an SSH signature without <see cref="GitOptions.AllowedSignersFile"/>), or with one GitProc does
    /// not verify (X.509).
    /// </summary>
    Untrusted,
}
