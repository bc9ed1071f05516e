using System.Collections.Concurrent;
using GitProc.Health;

namespace GitProc.Core.Tests.Health;

/// <summary>
/// The way a supervisor consumes <see cref="IHealthMonitor"/>: on <see cref="HealthState.Unhealthy"/> it posts a
/// restart off the checking loop, and once restarted watches the service again (a new start period).
/// </summary>
internal sealed class RestartOnUnhealthy : IAsyncDisposable
{
    private readonly IHealthMonitor _monitor;
    private readonly IServiceRestarter _restarter;
    private readonly IReadOnlyDictionary<string, HealthCheck> _checks;
    private readonly ConcurrentBag<Task> _restarts = [];

    public RestartOnUnhealthy(IHealthMonitor monitor, IServiceRestarter restarter, IReadOnlyDictionary<string, HealthCheck> checks)
    {
        _monitor = monitor;
        _restarter = restarter;
        _checks = checks;
        _monitor.HealthChanged += OnHealthChanged;
    }

    public async ValueTask DisposeAsync()
    {
        _monitor.HealthChanged -= OnHealthChanged;
        await Task.WhenAll(_restarts);
    }

    private void OnHealthChanged(object? sender, HealthChangedEventArgs e)
    {
        if (e.NewState != HealthState.Unhealthy)
        {
            return;
        }

        _restarts.Add(Task.Run(async () =>
        {
            await _restarter.RestartAsync(e.Service, CancellationToken.None);
            _monitor.Watch(_checks[e.Service]);
        }));
    }
}
