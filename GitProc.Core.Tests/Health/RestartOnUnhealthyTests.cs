using GitProc.Health;
using Moq;

namespace GitProc.Core.Tests.Health;

[CancelAfter(60_000)]
public sealed class RestartOnUnhealthyTests
{
    [Test]
    public async Task An_unhealthy_service_is_restarted_and_its_dependents_start_once_it_is_healthy()
    {
        await using var server = new TestHttpServer();
        server.Respond("/api", 503);
        await using var monitor = HealthMonitorTests.CreateMonitor();
        var check = HealthMonitorTests.RealTimeCheck("api", server.Url("/api"), retries: 2);
        var dependentMayStart = monitor.WaitHealthyAsync("api");
        var restarter = new Mock<IServiceRestarter>(MockBehavior.Strict);
        var completedBeforeRestart = true;
        restarter.Setup(r => r.RestartAsync("api", It.IsAny<CancellationToken>()))
            .Callback(() =>
            {
                completedBeforeRestart = dependentMayStart.IsCompleted;
                server.Respond("/api", 200);
            })
            .Returns(Task.CompletedTask);

        await using (new RestartOnUnhealthy(monitor, restarter.Object, new Dictionary<string, HealthCheck> { ["api"] = check }))
        {
            monitor.Watch(check);
            var report = await dependentMayStart.WaitAsync(TimeSpan.FromSeconds(15));

            Assert.That(report.State, Is.EqualTo(HealthState.Healthy));
        }

        Assert.That(completedBeforeRestart, Is.False, "the dependent waited while the dependency was unhealthy");
        restarter.Verify(r => r.RestartAsync("api", It.IsAny<CancellationToken>()), Times.Once);
    }

    [Test]
    public async Task Dependents_keep_waiting_across_restarts_that_do_not_help()
    {
        await using var server = new TestHttpServer();
        server.Respond("/api", 503);
        await using var monitor = HealthMonitorTests.CreateMonitor();
        var check = HealthMonitorTests.RealTimeCheck("api", server.Url("/api"), retries: 2);
        var dependentMayStart = monitor.WaitHealthyAsync("api");
        var restarts = 0;
        var restarter = new Mock<IServiceRestarter>(MockBehavior.Strict);
        restarter.Setup(r => r.RestartAsync("api", It.IsAny<CancellationToken>()))
            .Callback(() =>
            {
                // The third start finally brings up a working service.
                if (Interlocked.Increment(ref restarts) == 3)
                {
                    server.Respond("/api", 200);
                }
            })
            .Returns(Task.CompletedTask);

        await using (new RestartOnUnhealthy(monitor, restarter.Object, new Dictionary<string, HealthCheck> { ["api"] = check }))
        {
            monitor.Watch(check);
            await dependentMayStart.WaitAsync(TimeSpan.FromSeconds(15));
            await Task.Delay(300);
        }

        restarter.Verify(r => r.RestartAsync("api", It.IsAny<CancellationToken>()), Times.Exactly(3));
        Assert.That(monitor.GetReport("api")!.State, Is.EqualTo(HealthState.Healthy));
    }
}
