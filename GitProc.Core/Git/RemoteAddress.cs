namespace GitProc.Git;

/// <summary>
/// What kind of remote <see cref="GitOptions.RemoteUrl"/> names, and how it is shown: the transport decides who fetches
/// (libgit2 for local repositories, the <c>git</c> command for network ones), and every message shows the URL without
/// its user information.
/// </summary>
internal static class RemoteAddress
{
    private const string Hidden = "***";

    /// <summary>Whether the remote is reached over a network (https, http, ssh, scp-style, git://), so by the <c>git</c> command.</summary>
    public static bool IsNetwork(string url) => IsHttp(url) || IsSsh(url) || url.StartsWith("git://", StringComparison.OrdinalIgnoreCase);

    /// <summary>An <c>https://</c> or <c>http://</c> URL.</summary>
    public static bool IsHttp(string url) =>
        url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase);

    /// <summary>An <c>ssh://</c> URL (also <c>git+ssh://</c>, <c>ssh+git://</c>) or scp-style <c>[user@]host:path</c>.</summary>
    public static bool IsSsh(string url) =>
        url.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith("git+ssh://", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith("ssh+git://", StringComparison.OrdinalIgnoreCase)
        || IsScpStyle(url);

    /// <summary>
    /// git's rule: no <c>://</c>, and a colon before the first slash (so <c>/srv/a:b</c> and <c>./x:y</c> are paths).
    /// </summary>
    private static bool IsScpStyle(string url)
    {
        if (url.Contains("://", StringComparison.Ordinal))
        {
            return false;
        }

        var colon = url.IndexOf(':', StringComparison.Ordinal);
        var slash = url.IndexOf('/', StringComparison.Ordinal);
        return colon > 0 && (slash < 0 || colon < slash);
    }

    /// <summary>
    /// Whether the URL itself carries something secret: any user information of an http(s) URL (a token is often put
    /// there as the user name), or a password in any URL. Such a URL would end up in logs, the repository's config and
    /// the <c>git</c> command line, so it is refused.
    /// </summary>
    public static bool CarriesSecret(string url) => UserInfo(url) is { } userInfo && (IsHttp(url) || userInfo.Contains(':', StringComparison.Ordinal));

    /// <summary>
    /// The URL as it may be shown: the user information of an http(s) URL and any password replaced with <c>***</c>
    /// (<c>https://***@host/repo.git</c>, <c>ssh://git:***@host/repo</c>); an ssh user name stays.
    /// </summary>
    public static string Redact(string url)
    {
        if (UserInfo(url) is not { } userInfo)
        {
            return url;
        }

        var start = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        var shown = IsHttp(url) ? Hidden : colon < 0 ? userInfo : userInfo[..colon] + ":" + Hidden;
        return url[..start] + shown + url[(start + userInfo.Length)..];
    }

    /// <summary>The part between <c>scheme://</c> and the last <c>@</c> before the host's end, if any.</summary>
    private static string? UserInfo(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return null;
        }

        var start = scheme + 3;
        var end = url.IndexOfAny(['/', '?', '#'], start);
        var authority = end < 0 ? url[start..] : url[start..end];
        var at = authority.LastIndexOf('@');
        return at < 0 ? null : authority[..at];
    }
}
