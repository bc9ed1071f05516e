namespace GitProc.Health;

/// <summary>
/// Checks the health of services over HTTP (the unit keys <c>HealthCheckURL</c>, <c>HealthCheckInterval</c>,
/// <c>HealthCheckTimeout</c>, <c>HealthCheckRetries</c>). Each watched service is checked by its own loop, so a
/// slow or hanging endpoint delays only its own checks; no method blocks on a check.
/// </summary>
/// <remarks>
/// Verdicts: <see cref="HealthState.Healthy"/> after one successful check; <see cref="HealthState.Unhealthy"/>
/// after <see cref="HealthCheck.Retries"/> consecutive failures, not counting failures during the start period
/// (a success during it ends it). Checking goes on after a service turns unhealthy, so a later success makes it
/// healthy again, until <see cref="Unwatch"/> or another <see cref="Watch"/> of the service. Restarting an
/// unhealthy service is the caller's job: subscribe to <see cref="HealthChanged"/>, restart, then call
/// <see cref="Watch"/> again.
/// </remarks>
public interface IHealthMonitor : IAsyncDisposable
{
    /// <summary>
    /// Raised when a check changes a service's verdict (never for <see cref="Watch"/>'s reset to
    /// <see cref="HealthState.Unknown"/>). Raised on that service's checking loop, one event at a time per service
    /// and in order; a handler delays only that service's next check, so handlers should be quick (post the work
    /// elsewhere). An exception from a handler is logged and otherwise ignored.
    /// </summary>
    event EventHandler<HealthChangedEventArgs>? HealthChanged;

    /// <summary>
    /// Starts checking <paramref name="check"/>'s service, replacing any previous check of it: the verdict resets
    /// to <see cref="HealthState.Unknown"/> and the start period begins now. Call it after each start of the service.
    /// </summary>
    /// <param name="check">The check.</param>
    /// <exception cref="ArgumentException">The URL is not an absolute http(s) URL, or a time or count is not positive.</exception>
    /// <exception cref="ObjectDisposedException">The monitor has been disposed.</exception>
    void Watch(HealthCheck check);

    /// <summary>
    /// Stops checking the service and forgets its report; a check in flight is abandoned. Nothing happens if it
    /// is not watched. Callers of <see cref="WaitHealthyAsync"/> keep waiting (the service may be watched again).
    /// </summary>
    /// <param name="service">The service.</param>
    void Unwatch(string service);

    /// <summary>The service's health now, or <see langword="null"/> if it is not watched.</summary>
    /// <param name="service">The service.</param>
    /// <returns>A snapshot.</returns>
    HealthReport? GetReport(string service);

    /// <summary>
    /// Completes when the service is <see cref="HealthState.Healthy"/>: at once if it is, else at the first check
    /// that makes it so, across any number of <see cref="Watch"/> calls (restarts) in between. An unhealthy or
    /// unwatched service keeps the task pending: cancel <paramref name="cancellationToken"/> to stop waiting.
    /// </summary>
    /// <param name="service">The service.</param>
    /// <param name="cancellationToken">Ends the wait with an <see cref="OperationCanceledException"/>; so does disposing the monitor.</param>
    /// <returns>The report of the service once healthy.</returns>
    Task<HealthReport> WaitHealthyAsync(string service, CancellationToken cancellationToken = default);
}
