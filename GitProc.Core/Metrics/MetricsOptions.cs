namespace GitProc.Metrics;

/// <summary>The daemon's Prometheus endpoint. The instruments themselves always exist.</summary>
public sealed class MetricsOptions
{
    /// <summary>
    /// Where the daemon serves <c>/metrics</c> in the Prometheus text format: <c>HOST:PORT</c> with an IP address or
    /// <c>localhost</c> (<c>127.0.0.1:9101</c>, <c>[::1]:9101</c>, <c>0.0.0.0:9101</c> for every interface), or a
    /// port alone for the loopback address. Default <see langword="null"/>: not served. The endpoint has no
    /// authentication, so it listens on loopback unless a host is given.
    /// </summary>
    public string? Listen { get; set; }
}
