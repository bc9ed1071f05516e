using GitProc.UnitFiles;

namespace GitProc.Health;

/// <summary>
/// How one service's health is checked: <c>GET</c> <see cref="Url"/> every <see cref="Interval"/>; an HTTP 2xx or
/// 3xx answer within <see cref="Timeout"/> is a success (redirects are not followed), anything else a failure.
/// </summary>
public sealed record HealthCheck
{
    /// <summary>The service checked.</summary>
    public required string Service { get; init; }

    /// <summary><c>HealthCheckURL</c>: an absolute <c>http</c> or <c>https</c> URL.</summary>
    public required Uri Url { get; init; }

    /// <summary><c>HealthCheckInterval</c>: time between checks. Default 30 s.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>HealthCheckTimeout</c>: time allowed for one check, connecting included. Default 5 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>HealthCheckRetries</c>: consecutive counted failures that make the service unhealthy. Default 3.</summary>
    public int Retries { get; init; } = 3;

    /// <summary>Failures during this period after the watch starts do not count. Default 10 s (<see cref="HealthOptions.StartPeriod"/>).</summary>
    public TimeSpan StartPeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time between checks during the start period until the first success. Default 1 s (<see cref="HealthOptions.StartInterval"/>).</summary>
    public TimeSpan StartInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The check a unit asks for, or <see langword="null"/> when it has no <c>HealthCheckURL</c>. Values that
    /// cannot work are replaced by the contract's defaults (a zero or negative interval by 30 s, timeout by 5 s,
    /// fewer than 1 retries by 1) rather than rejected: the parser is where units are validated.
    /// </summary>
    /// <param name="unit">The parsed unit.</param>
    /// <param name="options">The start period and start interval.</param>
    /// <returns>The check, or <see langword="null"/>.</returns>
    public static HealthCheck? From(UnitFile unit, HealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(unit);
        ArgumentNullException.ThrowIfNull(options);
        if (unit.HealthCheckUrl is null)
        {
            return null;
        }

        var interval = unit.HealthCheckInterval > TimeSpan.Zero ? unit.HealthCheckInterval : TimeSpan.FromSeconds(30);
        return new HealthCheck
        {
            Service = unit.Name,
            Url = unit.HealthCheckUrl,
            Interval = interval,
            Timeout = unit.HealthCheckTimeout > TimeSpan.Zero ? unit.HealthCheckTimeout : TimeSpan.FromSeconds(5),
            Retries = Math.Max(1, unit.HealthCheckRetries),
            StartPeriod = options.StartPeriod > TimeSpan.Zero ? options.StartPeriod : TimeSpan.Zero,
            StartInterval = options.StartInterval > TimeSpan.Zero && options.StartInterval < interval ? options.StartInterval : interval,
        };
    }
}
