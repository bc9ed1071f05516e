using System.Runtime.Versioning;
using GitProc.Core.Tests.Supervision;
using GitProc.Core.Tests.TestSupport;
using GitProc.Health;
using GitProc.State;

namespace GitProc.Core.Tests.Health;

/// <summary>
/// What the product does with an unhealthy verdict, through the real supervisor: it restarts the service (the supervisor
/// subscribes to <see cref="IHealthMonitor.HealthChanged"/>) and watches it again, and a dependent waiting for the
/// service's health goes on waiting across that restart.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class UnhealthyRestartTests : SupervisorFixture
{
    [Test]
    public async Task An_unhealthy_service_is_restarted_and_its_dependent_starts_once_the_restarted_service_is_healthy()
    {
        await using var server = new TestHttpServer();
        server.Respond("/api", 503);
        var sleeper = Harness.Script("sleeper.sh", "exec sleep 300");
        await using var supervisor = Harness.CreateSupervisor();

        var apply = supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("api", $"[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart={sleeper}\nHealthCheckURL={server.Url("/api")}\nHealthCheckInterval=100ms\nHealthCheckRetries=2\n"),
            SupervisorHarness.Unit("app", $"[Unit]\nRequires=api\nAfter=api\n[Service]\nExecStart={sleeper}\n"),
        ]);
        var firstPid = (await SupervisorHarness.WaitForAsync(supervisor, "api", s => s.Pid is not null)).Pid;

        // Restarted for its verdict, while its dependent still waits.
        var restarted = await SupervisorHarness.WaitForAsync(supervisor, "api", s => s.RestartCount >= 1 && s.Pid is not null && s.Pid != firstPid, seconds: 20);
        Assert.That(supervisor.GetStatus("app").Status, Is.EqualTo(ServiceStatus.Stopped), "the dependent waited while its dependency was unhealthy");
        Assert.That(apply.IsCompleted, Is.False);
        Assert.That(ProcScan.IsAlive(firstPid!.Value), Is.False, "the unhealthy process was stopped");

        // The restarted service is watched again: once its endpoint answers, it is healthy and the dependent starts.
        server.Respond("/api", 200);
        await apply.WaitAsync(TimeSpan.FromSeconds(20));

        var api = supervisor.GetStatus("api");
        Assert.Multiple(() =>
        {
            Assert.That(api.Health?.State, Is.EqualTo(HealthState.Healthy));
            Assert.That(api.RestartCount, Is.GreaterThanOrEqualTo(restarted.RestartCount));
            Assert.That(supervisor.GetStatus("app").Status, Is.EqualTo(ServiceStatus.Running));
        });
    }
}
