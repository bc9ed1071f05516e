using System.Globalization;

namespace GitProc.Git;

/// <summary>
/// The user name and password (or token) of an https remote, from <see cref="GitOptions.CredentialsFile"/> or the variable
/// named by <see cref="GitOptions.CredentialsEnvironmentVariable"/>. Never printed: <see cref="ToString"/> hides both, and
/// <see cref="Scrub(string)"/> takes the secret out of any text (a git error message) before it is shown or logged.
/// </summary>
internal sealed class RemoteCredentials
{
    /// <summary>The user name sent with a bare token: what GitHub documents; GitLab and Gitea accept any name with a token.</summary>
    public const string TokenUserName = "x-access-token";

    private const string Hidden = "***";

    private RemoteCredentials(string username, string password)
    {
        Username = username;
        Password = password;
    }

    public string Username { get; }

    public string Password { get; }

    /// <summary>
    /// Reads the configured credentials; <see langword="null"/> when none are configured.
    /// </summary>
    /// <param name="options">The Git options.</param>
    /// <param name="environment">Reads an environment variable (the process's, in the daemon).</param>
    /// <exception cref="GitException">
    /// The file is missing, unreadable, accessible by group or others, or holds no password or token; or the variable is
    /// unset or empty. The message names the file (and its mode) or the variable, never the secret.
    /// </exception>
    public static RemoteCredentials? Load(GitOptions options, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(options.CredentialsFile))
        {
            var path = options.CredentialsFile;
            PrivateFile.Require(path, "Git:CredentialsFile");
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new GitException($"Cannot read the credentials file {path} (Git:CredentialsFile): {ex.Message}", ex);
            }

            return ParseFile(text) ?? throw new GitException(
                $"The credentials file {path} (Git:CredentialsFile) holds no credentials: write 'username=NAME' and 'password=SECRET' lines, or one line with only a token.");
        }

        if (!string.IsNullOrWhiteSpace(options.CredentialsEnvironmentVariable))
        {
            var name = options.CredentialsEnvironmentVariable;
            var value = environment(name)?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                throw new GitException($"The environment variable {name} (Git:CredentialsEnvironmentVariable) is not set or empty: set it to USERNAME:PASSWORD or a token.");
            }

            var colon = value.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? new RemoteCredentials(TokenUserName, value) : new RemoteCredentials(value[..colon], value[(colon + 1)..]);
        }

        return null;
    }

    /// <summary>
    /// <c>username=</c>/<c>password=</c> lines, or a single line that is only a token; <see langword="null"/> when neither.
    /// </summary>
    internal static RemoteCredentials? ParseFile(string text)
    {
        var lines = text.Split('\n')
            .Select(l => l.Trim().TrimStart('\uFEFF'))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToList();
        string? username = null;
        string? password = null;
        foreach (var line in lines)
        {
            if (line.StartsWith("username=", StringComparison.Ordinal))
            {
                username = line["username=".Length..].Trim();
            }
            else if (line.StartsWith("password=", StringComparison.Ordinal))
            {
                password = line["password=".Length..].Trim();
            }
        }

        if (!string.IsNullOrEmpty(password))
        {
            return new RemoteCredentials(string.IsNullOrEmpty(username) ? TokenUserName : username, password);
        }

        // A token may itself end in '=' (base64), so a lone line that is not a key is the token.
        return username is null && lines.Count == 1 ? new RemoteCredentials(TokenUserName, lines[0]) : null;
    }

    /// <summary><paramref name="text"/> with the password (and a URL-encoded form of it) replaced by <c>***</c>.</summary>
    public string Scrub(string text) => Scrub(text, Password);

    /// <summary><paramref name="text"/> with <paramref name="secret"/> replaced by <c>***</c>, when there is one.</summary>
    internal static string Scrub(string text, string? secret)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return text;
        }

        text = text.Replace(secret, Hidden, StringComparison.Ordinal);
        var escaped = Uri.EscapeDataString(secret);
        return escaped == secret ? text : text.Replace(escaped, Hidden, StringComparison.Ordinal);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{nameof(RemoteCredentials)} {{ {Hidden} }}");
}
