using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace GitProc.Git;

/// <summary>
/// Fetches a network remote (https, ssh) with the <c>git</c> command: a transfer that can be bounded in time (the process
/// is killed at <see cref="GitOptions.FetchTimeout"/>, which libgit2's blocking calls cannot be), with its TLS trust, SSH
/// key and host-key checking set for this one process rather than for the whole daemon. docs/fleets.md explains the choice.
/// </summary>
/// <remarks>
/// No secret is ever on a command line (where <c>ps</c> shows it): the password or token reaches git through an inline
/// credential helper that prints two environment variables of the git process, which only its user and root can read.
/// Every other helper (a store, a cache) is switched off for the fetch, so the secret is never written anywhere; git
/// never prompts (<c>GIT_TERMINAL_PROMPT=0</c>, ssh <c>BatchMode=yes</c>).
/// </remarks>
internal sealed class GitCommandFetcher(TimeProvider timeProvider)
{
    private const string UserVariable = "GITPROC_GIT_USERNAME";
    private const string PasswordVariable = "GITPROC_GIT_PASSWORD";
    private const int MaxErrorLength = 600;

    // Answers only "get": git also calls helpers to "store" or "erase" what worked or failed.
    private const string Helper =
        "!f() { test \"$1\" = get && printf 'username=%s\\npassword=%s\\n' \"$" + UserVariable + "\" \"$" + PasswordVariable + "\"; }; f";

    // What the daemon may have in its environment that would redirect or change the fetch.
    private static readonly string[] Cleared =
        ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_CONFIG_PARAMETERS"];

    /// <summary>
    /// Runs <c>git fetch URL +refs/heads/BRANCH:TRACKING</c> in <paramref name="repository"/>.
    /// </summary>
    /// <exception cref="GitException">
    /// git failed (its error, without secrets), timed out, or is not installed; a secret file is missing or too open.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; git was stopped.</exception>
    public async Task FetchAsync(string repository, string url, string remoteBranch, string tracking, GitOptions options, CancellationToken cancellationToken)
    {
        var shown = RemoteAddress.Redact(url);
        var what = $"Fetching branch {remoteBranch} from {shown} into {repository}";
        var credentials = RemoteAddress.IsHttp(url) ? RemoteCredentials.Load(options, Environment.GetEnvironmentVariable) : null;
        var info = StartInfo(repository, url, remoteBranch, tracking, options, credentials);

        ToolResult result;
        try
        {
            result = await ToolProcess.RunAsync(info, ReadOnlyMemory<byte>.Empty, options.FetchTimeout, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Win32Exception ex)
        {
            throw new GitException($"{what} needs the git command, which could not be run ({ex.Message}); install git or use a file:// remote.", ex);
        }
        catch (TimeoutException)
        {
            throw new GitException(string.Create(
                CultureInfo.InvariantCulture,
                $"{what} timed out after {options.FetchTimeout.TotalSeconds:0.#} s (Git:FetchTimeout); the transfer was stopped."));
        }

        if (result.ExitCode != 0)
        {
            var text = Condense(result.Error);
            text = credentials?.Scrub(text) ?? text;
            throw new GitException(string.Create(
                CultureInfo.InvariantCulture,
                $"{what} failed: {(text.Length > 0 ? text : $"git exited with code {result.ExitCode}")}"));
        }
    }

    /// <summary>
    /// The <c>git</c> command run in <paramref name="repository"/>, with nothing of the daemon's environment that would
    /// redirect it to another repository or change how it talks (<c>GIT_DIR</c>, <c>GIT_SSH</c>, …), never prompting, and
    /// in the C locale so its messages read the same everywhere.
    /// </summary>
    internal static ProcessStartInfo GitStartInfo(string repository)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = repository };
        foreach (var variable in Cleared)
        {
            info.Environment.Remove(variable);
        }

        info.Environment["GIT_TERMINAL_PROMPT"] = "0";
        info.Environment["LC_ALL"] = "C";
        return info;
    }

    internal static ProcessStartInfo StartInfo(
        string repository, string url, string remoteBranch, string tracking, GitOptions options, RemoteCredentials? credentials)
    {
        var info = GitStartInfo(repository);
        string[] arguments = ["-C", repository, "-c", "credential.helper=", "-c", "core.askPass="];
        if (credentials is not null)
        {
            arguments = [.. arguments, "-c", "credential.helper=" + Helper];
            info.Environment[UserVariable] = credentials.Username;
            info.Environment[PasswordVariable] = credentials.Password;
        }

        var caFile = !string.IsNullOrWhiteSpace(options.SslCaFile) ? options.SslCaFile : Environment.GetEnvironmentVariable("SSL_CERT_FILE");
        if (!string.IsNullOrWhiteSpace(caFile))
        {
            // git's TLS library (GnuTLS on Debian) ignores SSL_CERT_FILE, so it is handed over explicitly.
            info.Environment["GIT_SSL_CAINFO"] = caFile;
        }

        if (RemoteAddress.IsSsh(url))
        {
            info.Environment["GIT_SSH_COMMAND"] = SshCommand(options);
        }

        foreach (var argument in (string[])[.. arguments, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", url, $"+refs/heads/{remoteBranch}:{tracking}"])
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>
    /// The ssh command git runs: the deploy key only (no agent, no other key), the known-hosts file only, strict host-key
    /// checking, and never a prompt. Paths are checked first so that a missing or too open key gets a clear error.
    /// </summary>
    internal static string SshCommand(GitOptions options)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(options.FetchTimeout.TotalSeconds));
        var command = new StringBuilder(string.Create(
            CultureInfo.InvariantCulture,
            $"ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o ConnectTimeout={seconds}"));
        if (!string.IsNullOrWhiteSpace(options.SshKeyFile))
        {
            PrivateFile.Require(options.SshKeyFile, "Git:SshKeyFile");
            command.Append(" -o IdentitiesOnly=yes -o IdentityAgent=none -i ").Append(Quote(options.SshKeyFile));
        }

        if (!string.IsNullOrWhiteSpace(options.SshKnownHostsFile))
        {
            if (!File.Exists(options.SshKnownHostsFile))
            {
                throw new GitException($"The file {options.SshKnownHostsFile} (Git:SshKnownHostsFile) does not exist.");
            }

            command.Append(" -o UserKnownHostsFile=").Append(Quote(options.SshKnownHostsFile)).Append(" -o GlobalKnownHostsFile=/dev/null");
        }

        return command.ToString();
    }

    /// <summary>A word for the shell git runs <c>GIT_SSH_COMMAND</c> with.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// git's error as one line (a status shows it, a log line holds it): its last three meaningful lines, which say what
    /// failed (<c>Host key verification failed.</c>, <c>fatal: Authentication failed for …</c>) after any banner ssh
    /// printed first (a changed host key's takes twenty lines).
    /// </summary>
    internal static string Condense(string stderr)
    {
        var lines = stderr.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('@')
                && !l.StartsWith("Please make sure you have the correct access rights", StringComparison.Ordinal)
                && l != "and the repository exists.")
            .ToList();
        var text = string.Join(" ", lines.Skip(Math.Max(0, lines.Count - 3)));
        return text.Length > MaxErrorLength ? text[..MaxErrorLength] + "…" : text;
    }
}
