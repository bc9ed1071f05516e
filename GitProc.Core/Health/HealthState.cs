namespace GitProc.Health;

/// <summary>What the health checks of a service say.</summary>
public enum HealthState
{
    /// <summary>No verdict yet: no check has succeeded since the service was (re)started, and fewer than
    /// <c>HealthCheckRetries</c> counted checks have failed.</summary>
    Unknown,

    /// <summary>The last verdict was a successful check (HTTP 2xx or 3xx).</summary>
    Healthy,

    /// <summary><c>HealthCheckRetries</c> consecutive counted checks have failed.</summary>
    Unhealthy,
}
