namespace GitProc.Health;

/// <summary>HTTP health checks.</summary>
public sealed class HealthOptions
{
    /// <summary>After each start, failures during this period do not count. Default 10 s.</summary>
    public TimeSpan StartPeriod { get; set; } = TimeSpan.FromSeconds(10);
}
