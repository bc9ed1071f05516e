namespace GitProc.Health;

/// <summary>A watched service's health verdict changed (see <see cref="IHealthMonitor.HealthChanged"/>).</summary>
public sealed class HealthChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    /// <param name="oldState">The verdict before the check.</param>
    /// <param name="report">The service's health after the check; its state is the new verdict.</param>
    public HealthChangedEventArgs(HealthState oldState, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        OldState = oldState;
        Report = report;
    }

    /// <summary>The service.</summary>
    public string Service => Report.Service;

    /// <summary>The verdict before the check.</summary>
    public HealthState OldState { get; }

    /// <summary>The new verdict.</summary>
    public HealthState NewState => Report.State;

    /// <summary>The service's health right after the check that changed the verdict.</summary>
    public HealthReport Report { get; }
}
