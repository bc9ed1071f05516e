using System.Runtime.Versioning;
using GitProc.Processes;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Supervision;

/// <summary>
/// Degrade, never die (CONTRACT §9): a start the daemon cannot make for want of descriptors or memory is the daemon's
/// shortage, not the service's failure: no exit code 203, no start-limit count, never <c>failed</c>; it is retried
/// with backoff (1 s doubling to 30 s) and the service starts once resources return.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class SupervisorShortageTests
{
    private const string Waiting = "waiting-for-resources";

    private SupervisorHarness _harness = null!;
    private FakeTimeProvider _time = null!;
    private ProcessManager _manager = null!;
    private ShortOfDescriptors _processes = null!;
    private ISupervisor _supervisor = null!;

    [SetUp]
    public void SetUp()
    {
        _harness = new SupervisorHarness();
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _manager = new ProcessManager();
        _processes = new ShortOfDescriptors(_manager);
        _supervisor = _harness.CreateSupervisor(configure: services =>
        {
            services.AddSingleton<TimeProvider>(_time);
            services.AddSingleton<IProcessManager>(_processes);
        });
    }

    [TearDown]
    public async Task TearDown()
    {
        await _supervisor.DisposeAsync();
        await _harness.DisposeAsync();
        await _manager.DisposeAsync();
        Assert.That(_harness.LeftAfterDispose, Is.Empty, "processes survived");
    }

    [Test]
    public async Task A_start_without_descriptors_waits_and_retries_with_backoff_without_counting_and_starts_when_they_return()
    {
        // A start limit of one: any start the shortage counted would leave the service failed.
        var unit = SupervisorHarness.Unit("svc", "[Unit]\nStartLimitBurst=1\n[Service]\nExecStart=/bin/sleep 300\n");
        _processes.Plan = "SSS";

        await _supervisor.ApplyAsync([unit]);

        var waiting = _supervisor.GetStatus("svc");
        Assert.Multiple(() =>
        {
            Assert.That(waiting.Status, Is.EqualTo(ServiceStatus.Stopped), "not failed: it is not the service's failure");
            Assert.That(waiting.SubState, Is.EqualTo(Waiting));
            Assert.That(waiting.FailureReason, Does.Contain("out of file descriptors").And.Contain("the start is retried in 1 s"));
            Assert.That(waiting.LastExitCode, Is.Null, "no exit code 203: nothing was executed");
            Assert.That(waiting.RestartCount, Is.Zero);
            Assert.That(waiting.Pid, Is.Null);
        });

        // 1 s, then 2 s, then 4 s later the fourth attempt finds descriptors; not a moment before each.
        foreach (var seconds in new[] { 1, 2, 4 })
        {
            await RetriesAfterAsync(TimeSpan.FromSeconds(seconds));
        }

        var running = await SupervisorHarness.WaitForAsync(_supervisor, "svc", s => s.Status == ServiceStatus.Running);
        Assert.Multiple(() =>
        {
            Assert.That(_processes.Attempts, Is.EqualTo(4));
            Assert.That(running.Pid, Is.Not.Null);
            Assert.That(running.RestartCount, Is.Zero, "retrying a start that never happened is not a restart");
            Assert.That(running.LastExitCode, Is.Null);
            Assert.That(running.FailureReason, Is.Null);
        });
    }

    [Test]
    public async Task An_operators_start_without_descriptors_says_why_and_the_service_waits_instead_of_failing()
    {
        await _supervisor.ApplyAsync([SupervisorHarness.Unit("svc", "[Service]\nExecStart=/bin/sleep 300\n")]);
        await _supervisor.StopAsync("svc");
        _processes.Plan = "S";

        var error = Assert.ThrowsAsync<ServiceOperationException>(() => _supervisor.StartAsync("svc"));

        Assert.That(error!.Message, Does.StartWith("Service svc failed to start: ").And.Contain("out of file descriptors"));
        Assert.That(_supervisor.GetStatus("svc").SubState, Is.EqualTo(Waiting));
        var running = await AdvanceUntilAsync(s => s.Status == ServiceStatus.Running);
        Assert.That(running.ManuallyStopped, Is.False);
    }

    [Test]
    public async Task An_operators_start_of_a_waiting_service_says_it_waits_and_why()
    {
        _processes.Plan = "S";
        await _supervisor.ApplyAsync([SupervisorHarness.Unit("svc", "[Service]\nExecStart=/bin/sleep 300\n")]);

        var error = Assert.ThrowsAsync<ServiceOperationException>(() => _supervisor.StartAsync("svc"));

        Assert.That(error!.Message, Does.StartWith("Service svc is waiting for the daemon's resources and starts by itself once they return: ").And.Contain("out of file descriptors"));
        await AdvanceUntilAsync(s => s.Status == ServiceStatus.Running);
        Assert.That(_processes.Attempts, Is.EqualTo(2), "the refused start did not start a second attempt");
    }

    [Test]
    public async Task A_shortage_in_ExecStartPre_waits_too_even_for_a_command_whose_failure_is_ignored()
    {
        var unit = SupervisorHarness.Unit("svc", "[Service]\nExecStartPre=-/bin/true\nExecStart=/bin/sleep 300\n");
        _processes.Plan = "S";

        await _supervisor.ApplyAsync([unit]);

        Assert.That(_supervisor.GetStatus("svc").SubState, Is.EqualTo(Waiting));
        await AdvanceUntilAsync(s => s.Status == ServiceStatus.Running);
        Assert.That(_processes.Attempts, Is.EqualTo(3), "the ExecStartPre that never ran, then it and the main command");
    }

    [Test]
    public async Task Retries_of_starts_the_daemon_could_not_make_leave_the_start_limit_to_the_starts_that_happened()
    {
        // A crash loop with a start limit of 3, and three starts without descriptors after the first crash.
        var unit = SupervisorHarness.Unit("svc", "[Unit]\nStartLimitBurst=3\nStartLimitIntervalSec=1h\n[Service]\nExecStart=/bin/false\nRestart=always\nRestartSec=0\n");
        _processes.Plan = "RSSS";

        await _supervisor.ApplyAsync([unit]);

        var failed = await AdvanceUntilAsync(s => s.SubState == "start-limit-hit", failedIsExpected: true);
        Assert.That(failed.SubState, Is.EqualTo("start-limit-hit"), failed.ToString());
        Assert.That(_processes.Started, Is.EqualTo(3), "three starts that happened, whatever the retries in between");
        Assert.That(failed.LastExitCode, Is.EqualTo(1), "the service's own exit code, never 203");
        Assert.That(_processes.Attempts, Is.EqualTo(6));
    }

    [Test]
    public async Task A_waiting_service_can_be_stopped_and_then_stays_stopped()
    {
        _processes.Plan = new string('S', 100);
        await _supervisor.ApplyAsync([SupervisorHarness.Unit("svc", "[Service]\nExecStart=/bin/sleep 300\n")]);

        var stopped = await _supervisor.StopAsync("svc");
        await SupervisorHarness.SupervisionEndedAsync(_supervisor, "svc");
        _time.Advance(TimeSpan.FromSeconds(40));

        Assert.That((stopped.Status, stopped.SubState), Is.EqualTo((ServiceStatus.Stopped, "dead")));
        Assert.That(_supervisor.GetStatus("svc").SubState, Is.EqualTo("dead"));
        Assert.That(_processes.Attempts, Is.EqualTo(1), "no retry after the stop");
    }

    /// <summary>
    /// Moves the fake clock through the service's waits for resources until its status matches. A wait is visible only
    /// once its timer is armed, and nothing but that timer ends it, so one move of the longest retry delay (30 s) does.
    /// </summary>
    private async Task<ServiceSnapshot> AdvanceUntilAsync(Func<ServiceSnapshot, bool> condition, bool failedIsExpected = false)
    {
        while (true)
        {
            var status = await SupervisorHarness.WaitForAsync(_supervisor, "svc", s => condition(s) || s.SubState == Waiting);
            if (condition(status))
            {
                return status;
            }

            Assert.That(failedIsExpected || status.Status != ServiceStatus.Failed, Is.True, status.ToString());
            var attempts = _processes.Attempts;
            _time.Advance(TimeSpan.FromSeconds(30));
            await SupervisorHarness.WaitForAsync(_supervisor, "svc", _ => _processes.Attempts > attempts);
        }
    }

    /// <summary>The service waits for resources; <paramref name="delay"/> less a millisecond does not retry, the rest of it does.</summary>
    private async Task RetriesAfterAsync(TimeSpan delay)
    {
        await SupervisorHarness.WaitForAsync(_supervisor, "svc", s => s.SubState == Waiting);
        var attempts = _processes.Attempts;
        _time.Advance(delay - TimeSpan.FromMilliseconds(1));
        Assert.That((_processes.Attempts, _supervisor.GetStatus("svc").SubState), Is.EqualTo((attempts, Waiting)), $"retried before {delay}");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await SupervisorHarness.WaitForAsync(_supervisor, "svc", _ => _processes.Attempts > attempts);
    }
}
