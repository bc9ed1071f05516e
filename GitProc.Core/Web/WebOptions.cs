namespace GitProc.Web;

/// <summary>The daemon's read-only status page (<c>docs/web.md</c>). Off by default.</summary>
public sealed class WebOptions
{
    /// <summary>
    /// Where the daemon serves its status page: <c>HOST:PORT</c> with an IP address or <c>localhost</c>
    /// (<c>127.0.0.1:9102</c>, <c>[::1]:9102</c>), or a port alone for the loopback address. Default
    /// <see langword="null"/>: not served. The page has no authentication and shows every service's log, so it listens
    /// on loopback unless a host is given; <c>0.0.0.0:9102</c> (every interface) must be written out.
    /// </summary>
    public string? Listen { get; set; }

    /// <summary>How many of a service's last log lines its page shows before following new ones. Default 200; 1 to 10000.</summary>
    public int LogLines { get; set; } = 200;
}
