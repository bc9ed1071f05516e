namespace GitProc.Health;

/// <summary>HTTP health checks (the unit keys <c>HealthCheckURL</c> and those that follow it).</summary>
public sealed class HealthOptions
{
    /// <summary>
    /// After each start, failed checks during this period do not count toward <c>HealthCheckRetries</c>; a
    /// successful check ends it early. Default 10 s.
    /// </summary>
    public TimeSpan StartPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Time between checks during the start period, until the first success, so that dependents of a service
    /// with a long <c>HealthCheckInterval</c> do not wait a whole interval for its first verdict. Never longer
    /// than the service's own interval; zero or negative uses the interval. Default 1 s.
    /// </summary>
    public TimeSpan StartInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Accept any server certificate on HTTPS checks, for internal endpoints with self-signed certificates.
    /// The check then proves only that the endpoint answers, not who answers. Default <see langword="false"/>:
    /// certificates are validated as any HTTPS client would.
    /// </summary>
    public bool AcceptAnyServerCertificate { get; set; }
}
