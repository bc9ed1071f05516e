namespace GitProc.Git;

/// <summary>
/// The optional remote the watched branch follows, and how often GitProc looks for new commits.
/// </summary>
public sealed class GitOptions
{
    /// <summary>
    /// The remote repository to fetch from: a path or <c>file://</c> URL (fetched by libgit2 in the process), or an
    /// <c>https://</c>, <c>http://</c>, <c>ssh://</c> or scp-style (<c>git@host:path</c>) URL (fetched by the <c>git</c>
    /// command; docs/fleets.md says why). It must not carry a password or token (<c>https://user:secret@…</c>): those go in
    /// <see cref="CredentialsFile"/>. Default <see langword="null"/>: no remote, the local branch is the desired state.
    /// </summary>
    public string? RemoteUrl { get; set; }

    /// <summary>
    /// The branch of <see cref="RemoteUrl"/> to follow. Default <see langword="null"/>: the same name as
    /// <see cref="GitProcOptions.WatchBranch"/>.
    /// </summary>
    public string? RemoteBranch { get; set; }

    /// <summary>
    /// How often the daemon fetches <see cref="RemoteUrl"/>. Each daemon fetches at its own phase of the interval, derived
    /// from the host name and the repository path (stable across restarts), so a fleet's fetches are spread over the
    /// interval instead of hitting the server at once. Default 60 s.
    /// </summary>
    public TimeSpan FetchInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long one fetch may take before its transfer is abandoned (the <c>git</c> process killed) and counted as failed,
    /// so a server that accepts the connection and then hangs never holds up the daemon. Default 60 s.
    /// </summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The delay before the first retry of a failed fetch; each further consecutive failure doubles it (with jitter:
    /// the actual delay is drawn between half and all of it) up to <see cref="FetchRetryMaxDelay"/>. Default 2 s.
    /// </summary>
    public TimeSpan FetchRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest delay between retries of a failing fetch. Default 5 min.</summary>
    public TimeSpan FetchRetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A file holding the credentials of an <c>https://</c> remote, readable by its owner only (mode 0600 or stricter; a
    /// file group or others can access is refused): either <c>username=NAME</c> and <c>password=SECRET</c> lines (a token
    /// goes in <c>password</c>), or one line holding only a token (sent with the user name <c>x-access-token</c>). Blank
    /// lines and lines starting with <c>#</c> are ignored. Read at every fetch, so a rotated token needs no restart.
    /// Default <see langword="null"/>.
    /// </summary>
    public string? CredentialsFile { get; set; }

    /// <summary>
    /// The name of an environment variable of the daemon holding the credentials of an <c>https://</c> remote:
    /// <c>USERNAME:PASSWORD</c> (split at the first colon) or a bare token (no colon). Used when
    /// <see cref="CredentialsFile"/> is not set. Default <see langword="null"/>.
    /// </summary>
    public string? CredentialsEnvironmentVariable { get; set; }

    /// <summary>
    /// The private key for an <c>ssh://</c> or scp-style remote (a deploy key), readable by its owner only, as ssh
    /// requires. Default <see langword="null"/>: ssh's own defaults (<c>~/.ssh/id_*</c>, an agent).
    /// </summary>
    public string? SshKeyFile { get; set; }

    /// <summary>
    /// The known-hosts file with the SSH server's host key. Host keys are checked strictly: an unknown or changed key
    /// fails the fetch, nothing is ever prompted or added. Default <see langword="null"/>: ssh's own
    /// (<c>~/.ssh/known_hosts</c>, <c>/etc/ssh/ssh_known_hosts</c>).
    /// </summary>
    public string? SshKnownHostsFile { get; set; }

    /// <summary>
    /// A PEM file of the certificate authorities an <c>https://</c> remote's certificate must chain to (a private CA).
    /// Default <see langword="null"/>: the file named by the daemon's <c>SSL_CERT_FILE</c> variable when set, else the
    /// system's trust store.
    /// </summary>
    public string? SslCaFile { get; set; }

    /// <summary>
    /// Whether a commit must carry a trusted signature to be applied: a new tip of the watched branch whose
    /// commit is unsigned, badly signed, or signed by a key that neither <see cref="AllowedSignersFile"/> nor
    /// <see cref="GpgKeyringFile"/> holds is rejected whole, and the last good commit keeps running. Only the tip is
    /// verified, as Flux does: its signer vouches for the tree that runs. At least one of the two files must be set.
    /// <c>gitproc rollback</c> is refused meanwhile (the daemon cannot sign the commit it would make). Default
    /// <see langword="false"/>.
    /// </summary>
    public bool RequireSignedCommits { get; set; }

    /// <summary>
    /// The SSH signers whose signatures <see cref="RequireSignedCommits"/> trusts, in ssh-keygen's allowed signers format
    /// (<c>PRINCIPALS [OPTIONS] KEYTYPE KEY</c> per line, such as <c>alice@example.com ssh-ed25519 AAAA…</c>), the file git's
    /// <c>gpg.ssh.allowedSignersFile</c> names; checked with <c>ssh-keygen -Y verify</c> in the namespace <c>git</c>. It is
    /// checked at start-up (a line that does not parse is an error naming the line) and read at every verification, so a
    /// key added later needs no restart. It must not be writable by group or others. Default <see langword="null"/>.
    /// </summary>
    public string? AllowedSignersFile { get; set; }

    /// <summary>
    /// The OpenPGP public keys whose signatures <see cref="RequireSignedCommits"/> trusts: a file as <c>gpg --export</c>
    /// writes it (binary, or ASCII-armored with <c>--armor</c>); checked with <c>gpgv</c>, which trusts every key in it and
    /// nothing else (no keyring or trust database of the daemon's user is consulted). Read at every verification. It must
    /// not be writable by group or others. Default <see langword="null"/>.
    /// </summary>
    public string? GpgKeyringFile { get; set; }

    /// <summary>
    /// How often the watched branch's reference files are checked (size and modification time, no Git read) as a
    /// fallback to the file-system watch, which can miss events on network file systems or when the repository is
    /// replaced. Default 1 s.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
