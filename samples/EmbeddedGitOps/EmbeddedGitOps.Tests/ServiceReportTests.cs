using GitProc.Health;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.State;
using Moq;

namespace EmbeddedGitOps.Tests;

[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class ServiceReportTests
{
    private readonly Mock<IStateManager> _state = new();
    private readonly Mock<IProcessManager> _processes = new();
    private readonly Mock<IHealthMonitor> _health = new();
    private readonly Mock<IResourceController> _resources = new();

    public ServiceReportTests() =>
        _resources.Setup(r => r.Status).Returns(new ResourceControlStatus(ResourceControlBackend.None, "resource control is disabled", []));

    private ServiceReport Report => new(_state.Object, _processes.Object, _health.Object, _resources.Object);

    [Test]
    public async Task Ready_when_every_running_service_still_has_its_process_and_none_is_unhealthy()
    {
        GivenRecorded(Running("web", 100, 5000), Running("worker", 200, 6000), new ServiceRecord { Name = "stopped-by-operator", ManuallyStopped = true });
        _processes.Setup(p => p.IsSameProcessAlive(100, 5000)).Returns(true);
        _processes.Setup(p => p.IsSameProcessAlive(200, 6000)).Returns(true);
        _health.Setup(h => h.GetReport("web")).Returns(new HealthReport { Service = "web", State = HealthState.Healthy });

        var result = await Report.CreateAsync();

        Assert.Multiple(() =>
        {
            Assert.That(result.IsReady, Is.True, string.Join("; ", result.Problems));
            Assert.That(result.Services.Select(s => s.Name), Is.EqualTo(new[] { "stopped-by-operator", "web", "worker" }));
            Assert.That(result.Services.Single(s => s.Name == "web").Health?.State, Is.EqualTo(HealthState.Healthy));
            Assert.That(result.ResourceLimits, Is.EqualTo("resource control is disabled"));
        });
    }

    [Test]
    public async Task Not_ready_when_a_recorded_process_is_gone_a_service_failed_or_one_is_unhealthy()
    {
        GivenRecorded(
            Running("web", 100, 5000),
            Running("api", 300, 7000),
            new ServiceRecord { Name = "job", Status = ServiceStatus.Failed, LastExitCode = 3 });
        _processes.Setup(p => p.IsSameProcessAlive(100, 5000)).Returns(false);
        _processes.Setup(p => p.IsSameProcessAlive(300, 7000)).Returns(true);
        _health.Setup(h => h.GetReport("api")).Returns(new HealthReport
        {
            Service = "api",
            State = HealthState.Unhealthy,
            LastError = "GET http://127.0.0.1:8080/health: 503",
        });

        var result = await Report.CreateAsync();

        Assert.Multiple(() =>
        {
            Assert.That(result.IsReady, Is.False);
            Assert.That(result.Problems, Is.EqualTo(new[]
            {
                "api is unhealthy: GET http://127.0.0.1:8080/health: 503",
                "job failed (last exit code 3)",
                "web is recorded as running, but its process 100 is gone",
            }));
            Assert.That(result.Services.Single(s => s.Name == "web").ProcessAlive, Is.False);
        });
    }

    [Test]
    public async Task Asks_about_a_process_by_pid_and_start_time_so_a_reused_pid_is_not_taken_for_it()
    {
        GivenRecorded(Running("web", 100, 5000));

        await Report.CreateAsync();

        _processes.Verify(p => p.IsSameProcessAlive(100, 5000), Times.Once);
        _processes.VerifyNoOtherCalls();
    }

    private void GivenRecorded(params ServiceRecord[] services) =>
        _state.Setup(s => s.GetAllServicesAsync(It.IsAny<CancellationToken>()))
            .ReturnsAsync(services.ToDictionary(s => s.Name, StringComparer.Ordinal));

    private static ServiceRecord Running(string name, int pid, long startTicks) =>
        new() { Name = name, Status = ServiceStatus.Running, Pid = pid, ProcessStartTicks = startTicks };
}
