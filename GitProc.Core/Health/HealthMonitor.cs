using GitProc.Events;
using GitProc.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Health;

/// <summary>
/// The default <see cref="IHealthMonitor"/>: one asynchronous loop per watched service, all sharing one pooled
/// HTTP client; Polly bounds each check by its timeout.
/// </summary>
internal sealed class HealthMonitor : IHealthMonitor, IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HealthWatch> _watches = new(StringComparer.Ordinal);

    // Every loop not yet ended, including replaced and unwatched ones still abandoning a check.
    private readonly HashSet<HealthWatch> _running = [];
    private readonly Dictionary<string, TaskCompletionSource<HealthReport>> _healthyWaiters = new(StringComparer.Ordinal);
    private readonly HealthProbe _probe;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly IEventStream? _events;
    private bool _disposed;

    public HealthMonitor(
        IOptions<HealthOptions> options,
        TimeProvider timeProvider,
        ILogger<HealthMonitor>? logger = null,
        IEventStream? events = null,
        GitProcMetrics? metrics = null)
    {
        _events = events;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _probe = new HealthProbe(options.Value, timeProvider);
        Metrics = metrics;
    }

    /// <summary>Where each check's result and duration are recorded; <see langword="null"/> when not registered.</summary>
    internal GitProcMetrics? Metrics { get; }

    public event EventHandler<HealthChangedEventArgs>? HealthChanged;

    public void Watch(HealthCheck check)
    {
        Validate(check);
        var watch = new HealthWatch(check, this, _probe, _timeProvider, _logger);
        HealthWatch? previous;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _watches.TryGetValue(check.Service, out previous);
            _watches[check.Service] = watch;
            _running.Add(watch);

            // Under the lock so that DisposeAsync, which awaits every running loop, sees this one started.
            watch.Start();
        }

        previous?.Stop();
        Log.Watching(_logger, check.Service, check.Url, check.Interval);
    }

    public void Unwatch(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        HealthWatch? watch;
        lock (_gate)
        {
            _watches.Remove(service, out watch);
        }

        if (watch is not null)
        {
            watch.Stop();
            Log.Unwatched(_logger, service);
        }
    }

    public HealthReport? GetReport(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        lock (_gate)
        {
            return _watches.TryGetValue(service, out var watch) ? watch.GetReport() : null;
        }
    }

    public Task<HealthReport> WaitHealthyAsync(string service, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        TaskCompletionSource<HealthReport>? waiter;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_watches.TryGetValue(service, out var watch))
            {
                var report = watch.GetReport();
                if (report.State == HealthState.Healthy)
                {
                    return Task.FromResult(report);
                }
            }

            if (!_healthyWaiters.TryGetValue(service, out waiter))
            {
                // Completed from a checking loop: continuations must not run on it.
                waiter = new TaskCompletionSource<HealthReport>(TaskCreationOptions.RunContinuationsAsynchronously);
                _healthyWaiters.Add(service, waiter);
            }
        }

        return waiter.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        HealthWatch[] running;
        TaskCompletionSource<HealthReport>[] waiters;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            running = [.. _running];
            waiters = [.. _healthyWaiters.Values];
            _watches.Clear();
            _healthyWaiters.Clear();
        }

        foreach (var watch in running)
        {
            watch.Stop();
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetCanceled();
        }

        await Task.WhenAll(running.Select(static watch => watch.Completion)).ConfigureAwait(false);
        _probe.Dispose();
    }

    /// <summary>
    /// For containers disposed synchronously (a <c>using</c> service provider), which would otherwise refuse an
    /// <see cref="IAsyncDisposable"/>-only singleton. Loops end promptly once stopped, so the wait is short.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Called by a loop when a check changed its state: wakes waiters and raises <see cref="HealthChanged"/>.</summary>
    internal void OnHealthChanged(HealthWatch watch, HealthState oldState, HealthReport report)
    {
        TaskCompletionSource<HealthReport>? waiter = null;
        lock (_gate)
        {
            // A replaced or unwatched loop may finish a check after the fact; its verdict is stale.
            if (!_watches.TryGetValue(report.Service, out var current) || current != watch)
            {
                return;
            }

            if (report.State == HealthState.Healthy)
            {
                _healthyWaiters.Remove(report.Service, out waiter);
            }
        }

        if (report.State == HealthState.Healthy)
        {
            Log.Healthy(_logger, report.Service);
        }
        else if (report.State == HealthState.Unhealthy)
        {
            Log.Unhealthy(_logger, report.Service, report.ConsecutiveFailures, report.LastError);
        }

        waiter?.TrySetResult(report);
        _events?.Publish(new GitProcEvent
        {
            Type = EventTypes.HealthChanged,
            Service = report.Service,
            From = oldState.ToString().ToLowerInvariant(),
            To = report.State.ToString().ToLowerInvariant(),
            Reason = report.State == HealthState.Healthy ? null : report.LastError,
        });
        try
        {
            HealthChanged?.Invoke(this, new HealthChangedEventArgs(oldState, report));
        }
#pragma warning disable CA1031 // A subscriber's bug must not stop the checks.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, e, report.Service);
        }
    }

    internal void OnLoopEnded(HealthWatch watch)
    {
        lock (_gate)
        {
            _running.Remove(watch);
        }
    }

    private static void Validate(HealthCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (string.IsNullOrEmpty(check.Service))
        {
            throw new ArgumentException("A health check must name its service.", nameof(check));
        }

        if (check.Url is null || !check.Url.IsAbsoluteUri || (check.Url.Scheme != Uri.UriSchemeHttp && check.Url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The health check URL of {check.Service} must be an absolute http or https URL (was '{check.Url}').", nameof(check));
        }

        if (check.Interval <= TimeSpan.Zero || check.StartInterval <= TimeSpan.Zero || check.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The health check of {check.Service} needs a positive interval, start interval and timeout (were {check.Interval}, {check.StartInterval}, {check.Timeout}).", nameof(check));
        }

        if (check.Retries < 1 || check.StartPeriod < TimeSpan.Zero)
        {
            throw new ArgumentException($"The health check of {check.Service} needs at least 1 retry and a start period that is not negative (were {check.Retries}, {check.StartPeriod}).", nameof(check));
        }
    }
}
