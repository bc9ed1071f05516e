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
internal sealed class DeliveryVerifier(ISupervisor supervisor, DeliveryOptions options, TimeProvider time)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Watches <paramref name="services"/> for the verify window.</summary>
    /// <returns><see langword="null"/> when they passed, else why they did not, naming the service.</returns>
    public async Task<string?> VerifyAsync(IReadOnlyCollection<string> services, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        var baseline = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            if (TryStatus(service) is { } status)
            {
                baseline[service] = status.RestartCount;
            }
        }

        while (true)
        {
            var atEnd = time.GetElapsedTime(start) >= options.VerifyWindow;
            foreach (var (service, restartsBefore) in baseline)
            {
                if (TryStatus(service) is { ManuallyStopped: false } status && Judge(service, status, restartsBefore, atEnd) is { } failure)
                {
                    return failure;
                }
            }

            if (atEnd)
            {
                return null;
            }

            var left = options.VerifyWindow - time.GetElapsedTime(start);
            await Task.Delay(left < PollInterval ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private string? Judge(string service, ServiceStatusInfo status, int restartsBefore, bool atEnd)
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

    private ServiceStatusInfo? TryStatus(string service)
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
