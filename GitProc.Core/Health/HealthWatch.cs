using Microsoft.Extensions.Logging;
using Polly;

namespace GitProc.Health;

/// <summary>
/// The checking loop of one <see cref="IHealthMonitor.Watch"/> call and the state it builds. A new watch of the
/// same service replaces this one rather than resetting it, so a check in flight can never touch the new state.
/// </summary>
internal sealed class HealthWatch
{
    private readonly Lock _lock = new();

    // Never disposed: it has no timer or wait handle to free, and Stop may race with the end of the loop.
    private readonly CancellationTokenSource _stop = new();
    private readonly HealthMonitor _monitor;
    private readonly HealthProbe _probe;
    private readonly ResiliencePipeline _pipeline;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly long _watchedAt;

    private HealthState _state;
    private DateTimeOffset? _lastCheck;
    private DateTimeOffset? _lastSuccess;
    private string? _lastError;
    private DateTimeOffset? _lastErrorTime;
    private int _consecutiveFailures;
    private bool _startPeriodOver;

    public HealthWatch(HealthCheck check, HealthMonitor monitor, HealthProbe probe, TimeProvider timeProvider, ILogger logger)
    {
        Check = check;
        _monitor = monitor;
        _probe = probe;
        _pipeline = probe.PipelineFor(check.Timeout);
        _timeProvider = timeProvider;
        _logger = logger;
        _watchedAt = timeProvider.GetTimestamp();
        _startPeriodOver = check.StartPeriod <= TimeSpan.Zero;
    }

    public HealthCheck Check { get; }

    /// <summary>Completes when the loop has ended; never faults.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start() => Completion = RunAsync();

    public void Stop() => _stop.Cancel();

    public HealthReport GetReport()
    {
        lock (_lock)
        {
            return Snapshot();
        }
    }

    private async Task RunAsync()
    {
        var cancellationToken = _stop.Token;
        var inStartPeriod = !_startPeriodOver;

        // One timer per watch for its whole life: checks allocate no timers of their own.
        var timer = new PeriodicTimer(inStartPeriod ? Check.StartInterval : Check.Interval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var startedAt = _timeProvider.GetTimestamp();
                var outcome = await _probe.CheckAsync(Check.Url, _pipeline, Check.Timeout, cancellationToken).ConfigureAwait(false);
                if (outcome.DaemonShortage)
                {
                    // The daemon's shortage is not the service's failure: the verdict waits for a real check.
                    Log.CheckSkipped(_logger, Check.Service, outcome.Error!);
                    continue;
                }

                _monitor.Metrics?.HealthChecked(Check.Service, outcome.Error is null, _timeProvider.GetElapsedTime(startedAt));
                var (oldState, changed) = Record(outcome.Error, startedAt);
                if (inStartPeriod && !InStartPeriod(_timeProvider.GetTimestamp()))
                {
                    inStartPeriod = false;

                    // Setting the period restarts the timer; skip it when nothing changes.
                    if (Check.StartInterval != Check.Interval)
                    {
                        timer.Period = Check.Interval;
                    }
                }

                if (changed is not null)
                {
                    _monitor.OnHealthChanged(this, oldState, changed);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A loop that dies silently would leave the service unwatched: log it instead.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.LoopFailed(_logger, e, Check.Service);
        }
        finally
        {
            timer.Dispose();
            _monitor.OnLoopEnded(this);
        }
    }

    /// <summary>Applies one check's outcome; returns the old state and, if the state changed, the new report.</summary>
    private (HealthState OldState, HealthReport? Changed) Record(string? error, long startedAt)
    {
        HealthState oldState;
        HealthReport? changed;
        int failures;
        lock (_lock)
        {
            var now = _timeProvider.GetUtcNow();
            oldState = _state;
            _lastCheck = now;
            if (error is null)
            {
                // As in Docker, a success ends the start period: from now on every failure counts.
                _lastSuccess = now;
                _consecutiveFailures = 0;
                _startPeriodOver = true;
                _state = HealthState.Healthy;
            }
            else
            {
                _lastError = error;
                _lastErrorTime = now;
                if (!InStartPeriod(startedAt))
                {
                    _startPeriodOver = true;
                    _consecutiveFailures++;
                    if (_consecutiveFailures >= Check.Retries)
                    {
                        _state = HealthState.Unhealthy;
                    }
                }
            }

            failures = _consecutiveFailures;
            changed = _state != oldState ? Snapshot() : null;
        }

        if (error is not null)
        {
            Log.CheckFailed(_logger, Check.Service, failures, Check.Retries, error);
        }

        return (oldState, changed);
    }

    private bool InStartPeriod(long timestamp)
        => !_startPeriodOver && _timeProvider.GetElapsedTime(_watchedAt, timestamp) < Check.StartPeriod;

    private HealthReport Snapshot() => new()
    {
        Service = Check.Service,
        State = _state,
        LastCheck = _lastCheck,
        LastSuccess = _lastSuccess,
        LastError = _lastError,
        LastErrorTime = _lastErrorTime,
        ConsecutiveFailures = _consecutiveFailures,
    };
}
