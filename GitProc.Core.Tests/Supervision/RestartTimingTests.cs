using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Supervision;

/// <summary>
/// Restart delays and start limits, measured on the supervisor's clock: a fake one the test moves, so a delay is
/// checked to the millisecond and no test sleeps through it. The processes are real.
/// </summary>
[TestFixture]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Platform(Include = "Linux")]
[CancelAfter(60_000)]
public sealed class RestartTimingTests : SupervisorFixture
{
    private FakeTimeProvider _time = null!;
    private ISupervisor _supervisor = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _supervisor = Harness.CreateSupervisor(time: _time);
    }

    [TearDown]
    public async Task TearDown() => await _supervisor.DisposeAsync();

    [Test]
    public async Task A_crash_is_restarted_after_RestartSec_and_not_a_moment_before()
    {
        await _supervisor.ApplyAsync([SupervisorHarness.Unit("crash", "[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/false\nRestart=on-failure\nRestartSec=10s\n")]);

        var waiting = await SupervisorHarness.WaitForAsync(_supervisor, "crash", s => s.SubState == "auto-restart");
        Assert.That((waiting.Status, waiting.LastExitCode, waiting.RestartCount), Is.EqualTo((ServiceStatus.Failed, (int?)1, 0)));

        await SupervisorHarness.RestartsAfterAsync(_supervisor, _time, "crash", TimeSpan.FromSeconds(10));
        await SupervisorHarness.RestartsAfterAsync(_supervisor, _time, "crash", TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task The_restart_delay_grows_over_RestartSteps_up_to_RestartMaxDelaySec()
    {
        await _supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("crash", "[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/false\nRestart=always\nRestartSec=1s\nRestartSteps=2\nRestartMaxDelaySec=4s\n"),
        ]);

        // systemd ≥ 254: 1 s · 4^(n/2) for the n-th restart, then 4 s from the second on.
        foreach (var seconds in new[] { 2, 4, 4 })
        {
            await SupervisorHarness.RestartsAfterAsync(_supervisor, _time, "crash", TimeSpan.FromSeconds(seconds));
        }
    }

    [Test]
    public async Task Crash_loop_limit_fails_the_service_until_an_operator_starts_it()
    {
        await _supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("crash", "[Unit]\nStartLimitBurst=3\nStartLimitIntervalSec=30\n[Service]\nExecStart=/bin/false\nRestart=always\nRestartSec=5s\n"),
        ]);

        // Three starts within 30 s: the first, and two restarts 5 s apart; the third ending hits the limit.
        await SupervisorHarness.RestartsAfterAsync(_supervisor, _time, "crash", TimeSpan.FromSeconds(5));
        await SupervisorHarness.RestartsAfterAsync(_supervisor, _time, "crash", TimeSpan.FromSeconds(5));
        var status = await SupervisorHarness.WaitForAsync(_supervisor, "crash", s => s.SubState == "start-limit-hit");

        Assert.That(status.Status, Is.EqualTo(ServiceStatus.Failed));
        Assert.That(status.RestartCount, Is.EqualTo(2), "three starts: the first and two restarts");
        Assert.That(status.LastExitCode, Is.EqualTo(1));
        Assert.That(status.FailureReason, Does.Contain("StartLimitBurst"));

        // It stays failed: its supervision has ended, however long the clock runs on.
        await SupervisorHarness.SupervisionEndedAsync(_supervisor, "crash");
        _time.Advance(TimeSpan.FromHours(1));
        Assert.That(_supervisor.GetStatus("crash").RestartCount, Is.EqualTo(2));

        // An operator's start clears the limit, and the loop runs again.
        await _supervisor.StartAsync("crash");
        await SupervisorHarness.RestartsAfterAsync(_supervisor, _time, "crash", TimeSpan.FromSeconds(5));
        await SupervisorHarness.RestartsAfterAsync(_supervisor, _time, "crash", TimeSpan.FromSeconds(5));
        status = await SupervisorHarness.WaitForAsync(_supervisor, "crash", s => s.SubState == "start-limit-hit");
        Assert.That(status.RestartCount, Is.EqualTo(4));
    }

    [Test]
    public async Task Restarts_spaced_beyond_StartLimitIntervalSec_never_hit_the_limit()
    {
        await _supervisor.ApplyAsync(
        [
            SupervisorHarness.Unit("crash", "[Unit]\nStartLimitBurst=2\nStartLimitIntervalSec=10\n[Service]\nExecStart=/bin/false\nRestart=always\nRestartSec=10s\n"),
        ]);

        // Each start is 10 s after the one before, so no two ever fall within one interval.
        for (var i = 0; i < 4; i++)
        {
            await SupervisorHarness.RestartsAfterAsync(_supervisor, _time, "crash", TimeSpan.FromSeconds(10));
        }

        var status = await SupervisorHarness.WaitForAsync(_supervisor, "crash", s => s.SubState == "auto-restart");
        Assert.That((status.RestartCount, status.FailureReason), Is.EqualTo((4, (string?)null)));
    }

    [Test]
    public async Task A_stop_during_the_restart_delay_cancels_the_restart()
    {
        await _supervisor.ApplyAsync([SupervisorHarness.Unit("crash", "[Service]\nExecStart=/bin/false\nRestart=always\nRestartSec=10s\n")]);
        await SupervisorHarness.WaitForAsync(_supervisor, "crash", s => s.SubState == "auto-restart");

        var stopped = await _supervisor.StopAsync("crash");
        await SupervisorHarness.SupervisionEndedAsync(_supervisor, "crash");
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That((stopped.Status, stopped.SubState, stopped.ManuallyStopped), Is.EqualTo((ServiceStatus.Stopped, "dead", true)));
        Assert.That(_supervisor.GetStatus("crash").RestartCount, Is.Zero);
    }
}
