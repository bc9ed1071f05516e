using GitProc.Events;
using GitProc.State;
using GitProc.Supervision;

namespace GitProc.Delivery;

/// <summary>
/// Decides whether the services an apply started or restarted came up well: each must reach running (a oneshot:
/// finish successfully), and healthy where it has a health check, within <see cref="DeliveryOptions.VerifyWindow"/>,
/// without failing or crash-looping (<see cref="DeliveryOptions.CrashLoopRestarts"/> automatic restarts) on the way. A
/// failure is known as soon as it happens; success only at the end of the window, since a release that crashes after
/// two seconds has not succeeded. A service an operator stops meanwhile is not held against the commit.
/// </summary>
internal sealed class DeliveryVerifier(ISupervisor supervisor, DeliveryOptions options, TimeProvider time, IEventStream? events = null)
{
    // Without an event stream the statuses are read this often. With one, a state or health change wakes the verifier
    // at once and the statuses are read only then and every BackstopInterval: polling 100 services ten times a second
    // through a 30 s window cost an idle daemon 100 ms of CPU and 8 MiB of garbage after every apply.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan BackstopInterval = TimeSpan.FromSeconds(1);

    /// <summary>Watches <paramref name="services"/> for the verify window.</summary>
    /// <returns><see langword="null"/> when they passed, else why they did not, naming the service.</returns>
    public async Task<string?> VerifyAsync(IReadOnlyCollection<string> services, CancellationToken cancellationToken)
    {
        // Subscribed before the baseline is read, so no change after it goes unseen.
        using var changes = events?.Subscribe(new EventFilter(Types: [EventTypes.ServiceRecord, EventTypes.HealthChanged]));
        var start = time.GetTimestamp();
        var baseline = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            if (TryStatus(service) is { } status)
            {
                baseline[service] = status.RestartCount;
            }
        }

        var following = changes is not null;
        while (true)
        {
            var atEnd = time.GetElapsedTime(start) >= options.VerifyWindow;
            if (JudgeAll(baseline, atEnd) is { } failure)
            {
                return failure;
            }

            if (atEnd)
            {
                return null;
            }

            var left = options.VerifyWindow - time.GetElapsedTime(start);
            var wait = following ? BackstopInterval : PollInterval;
            wait = left < wait ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : wait;
            if (following)
            {
                // A subscription dropped for falling behind ends its events: polling covers the rest of the window.
                following = await NextChangeAsync(changes!, baseline, wait, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Waits up to <paramref name="wait"/> for a change of one of the services; <see langword="false"/> when the
    /// subscription has ended.
    /// </summary>
    private async Task<bool> NextChangeAsync(IEventSubscription changes, Dictionary<string, int> baseline, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(wait, time);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await foreach (var change in changes.ReadAllAsync(waiting.Token).ConfigureAwait(false))
            {
                if (change.Service is { } service && baseline.ContainsKey(service))
                {
                    return true;
                }
            }

            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return true;
        }
    }

    private string? JudgeAll(Dictionary<string, int> baseline, bool atEnd)
    {
        foreach (var (service, restartsBefore) in baseline)
        {
            if (TryStatus(service) is { ManuallyStopped: false } status && Judge(service, status, restartsBefore, atEnd) is { } failure)
            {
                return failure;
            }
        }

        return null;
    }

    private string? Judge(string service, ServiceSnapshot status, int restartsBefore, bool atEnd)
    {
        var window = SystemdWindow();
        // A service waiting to be restarted after a crash is judged by how often that happens, not by the one crash.
        if (status.Status == ServiceStatus.Failed && status.SubState != "auto-restart")
        {
            return $"{service} failed ({status.FailureReason ?? status.LastExit ?? status.SubState})";
        }

        var restarts = status.RestartCount - restartsBefore;
        if (restarts >= options.CrashLoopRestarts)
        {
            return $"{service} crash-looped: restarted {restarts} times within the {window} verify window (last exit: {status.LastExit ?? "unknown"})";
        }

        if (status.Health is { State: Health.HealthState.Unhealthy } unhealthy)
        {
            return $"{service} is unhealthy ({unhealthy.LastError ?? "health check failed"})";
        }

        if (!atEnd)
        {
            return null;
        }

        if (status.Status != ServiceStatus.Running && status.SubState != "exited")
        {
            return $"{service} is not running at the end of the {window} verify window ({status.SubState})";
        }

        return status.Health is { State: not Health.HealthState.Healthy } health
            ? $"{service} did not become healthy within the {window} verify window ({health.LastError ?? "no successful check yet"})"
            : null;
    }

    private string SystemdWindow() => UnitFiles.SystemdTimeSpan.Format(options.VerifyWindow);

    private ServiceSnapshot? TryStatus(string service)
    {
        try
        {
            return supervisor.GetStatus(service);
        }
        catch (ServiceNotFoundException)
        {
            return null;
        }
    }
}
