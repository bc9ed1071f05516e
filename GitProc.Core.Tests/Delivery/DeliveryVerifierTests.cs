using GitProc.Delivery;
using GitProc.Events;
using GitProc.Health;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GitProc.Core.Tests.Delivery;

/// <summary>
/// The verifier reads service statuses from the supervisor; here a mocked supervisor plays out what a release does in
/// its first seconds, and a fake clock walks through the verify window.
/// </summary>
[TestFixture]
public sealed class DeliveryVerifierTests
{
    private readonly Dictionary<string, ServiceSnapshot> _statuses = new(StringComparer.Ordinal);
    private FakeTimeProvider _time = null!;
    private DeliveryOptions _options = null!;
    private DeliveryVerifier _verifier = null!;

    [SetUp]
    public void SetUp()
    {
        _statuses.Clear();
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        _options = new DeliveryOptions { VerifyWindow = TimeSpan.FromSeconds(10), CrashLoopRestarts = 2 };
        var supervisor = new Mock<ISupervisor>();
        supervisor.Setup(s => s.GetStatus(It.IsAny<string>()))
            .Returns((string name) => _statuses.TryGetValue(name, out var status) ? status : throw new ServiceNotFoundException(name));
        _verifier = new DeliveryVerifier(supervisor.Object, _options, _time);
    }

    [Test]
    public async Task A_service_running_through_the_window_passes_only_at_its_end()
    {
        _statuses["web"] = Running("web");
        var verdict = _verifier.VerifyAsync(["web"], CancellationToken.None);

        await AdvanceAsync(TimeSpan.FromSeconds(9));
        Assert.That(verdict.IsCompleted, Is.False, "a release that has run 9 of 10 seconds has not passed yet");

        await AdvanceAsync(TimeSpan.FromSeconds(1.5));
        Assert.That(await verdict.WaitAsync(TimeSpan.FromSeconds(10)), Is.Null);
    }

    [Test]
    public async Task A_crash_loop_fails_as_soon_as_it_is_one_and_names_the_service_and_exit()
    {
        _statuses["web"] = Running("web") with { RestartCount = 4 };
        var verdict = _verifier.VerifyAsync(["web"], CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromSeconds(1));

        // One crash may be a hiccup: not yet a verdict.
        _statuses["web"] = Running("web") with { RestartCount = 5, LastExit = "exited with code 3" };
        await AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.That(verdict.IsCompleted, Is.False);

        // Counted from the apply on, not from the daemon's start.
        _statuses["web"] = _statuses["web"] with { RestartCount = 6 };
        await AdvanceAsync(TimeSpan.FromSeconds(1));
        var failure = await verdict.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(failure, Is.EqualTo("web crash-looped: restarted 2 times within the 10s verify window (last exit: exited with code 3)"));
    }

    [Test]
    public async Task A_failed_service_fails_at_once_but_one_waiting_to_restart_does_not()
    {
        _statuses["db"] = Running("db");
        _statuses["web"] = Running("web") with { Status = ServiceStatus.Failed, SubState = "auto-restart", Pid = null };
        var verdict = _verifier.VerifyAsync(["db", "web"], CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.That(verdict.IsCompleted, Is.False);

        _statuses["web"] = _statuses["web"] with { SubState = "start-limit-hit", FailureReason = "start limit hit" };
        await AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.That(await verdict.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("web failed (start limit hit)"));
    }

    [Test]
    public async Task Health_counts_unhealthy_at_once_and_never_healthy_at_the_end()
    {
        _statuses["api"] = Running("api") with { Health = Report("api", HealthState.Unknown, null) };
        var verdict = _verifier.VerifyAsync(["api"], CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromSeconds(11));
        Assert.That(
            await verdict.WaitAsync(TimeSpan.FromSeconds(10)),
            Is.EqualTo("api did not become healthy within the 10s verify window (no successful check yet)"));

        _statuses["api"] = Running("api") with { Health = Report("api", HealthState.Unhealthy, "connection refused") };
        var second = _verifier.VerifyAsync(["api"], CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromSeconds(0.5));
        Assert.That(await second.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("api is unhealthy (connection refused)"));
    }

    [Test]
    public async Task A_service_an_operator_stops_or_a_finished_oneshot_is_not_held_against_the_commit()
    {
        _statuses["web"] = Running("web");
        _statuses["migrate"] = Running("migrate");
        var verdict = _verifier.VerifyAsync(["web", "migrate"], CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromSeconds(2));

        _statuses["web"] = _statuses["web"] with { Status = ServiceStatus.Stopped, SubState = "dead", ManuallyStopped = true, Pid = null };
        _statuses["migrate"] = _statuses["migrate"] with { Status = ServiceStatus.Stopped, SubState = "exited", Pid = null };
        await AdvanceAsync(TimeSpan.FromSeconds(9));
        Assert.That(await verdict.WaitAsync(TimeSpan.FromSeconds(10)), Is.Null);
    }

    [Test]
    public async Task A_service_not_running_at_the_end_fails_and_cancelling_ends_the_watch()
    {
        _statuses["web"] = Running("web") with { Status = ServiceStatus.Stopped, SubState = "dead", Pid = null };
        var verdict = _verifier.VerifyAsync(["web"], CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromSeconds(11));
        Assert.That(await verdict.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("web is not running at the end of the 10s verify window (dead)"));

        using var cancel = new CancellationTokenSource();
        var cancelled = _verifier.VerifyAsync(["web"], cancel.Token);
        await cancel.CancelAsync();
        Assert.That(async () => await cancelled.WaitAsync(TimeSpan.FromSeconds(10)), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task With_the_event_stream_a_change_is_judged_when_its_event_arrives_and_statuses_are_not_polled_meanwhile()
    {
        var events = new EventStream(Options.Create(new EventOptions()), _time);
        var reads = 0;
        var supervisor = new Mock<ISupervisor>();
        supervisor.Setup(s => s.GetStatus(It.IsAny<string>()))
            .Returns((string name) =>
            {
                Interlocked.Increment(ref reads);
                return _statuses[name];
            });
        var verifier = new DeliveryVerifier(supervisor.Object, _options, _time, events);
        _statuses["web"] = Running("web") with { RestartCount = 4 };
        _statuses["db"] = Running("db");

        var verdict = verifier.VerifyAsync(["web", "db"], CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromSeconds(0.9));
        Assert.That(Volatile.Read(ref reads), Is.LessThanOrEqualTo(4), "the baseline and one look, then nothing until a change: no polling of every service");

        events.Publish(new GitProcEvent { Type = EventTypes.ServiceRecord, Service = "db", From = "running", To = "running" });
        _statuses["web"] = _statuses["web"] with { RestartCount = 6, LastExit = "exited with code 3" };
        events.Publish(new GitProcEvent { Type = EventTypes.ServiceRecord, Service = "web", From = "failed", To = "running" });

        // No time passes: the event, not a poll, brings the verdict.
        Assert.That(
            await verdict.WaitAsync(TimeSpan.FromSeconds(10)),
            Is.EqualTo("web crash-looped: restarted 2 times within the 10s verify window (last exit: exited with code 3)"));
        Assert.That(events.SubscriberCount, Is.Zero, "the verifier unsubscribed");
    }

    [Test]
    public async Task With_the_event_stream_a_release_still_passes_only_at_the_end_of_its_window()
    {
        var events = new EventStream(Options.Create(new EventOptions()), _time);
        var supervisor = new Mock<ISupervisor>();
        supervisor.Setup(s => s.GetStatus(It.IsAny<string>())).Returns((string name) => _statuses[name]);
        var verifier = new DeliveryVerifier(supervisor.Object, _options, _time, events);
        _statuses["web"] = Running("web");

        var verdict = verifier.VerifyAsync(["web"], CancellationToken.None);
        await AdvanceAsync(TimeSpan.FromSeconds(9));
        Assert.That(verdict.IsCompleted, Is.False);
        await AdvanceAsync(TimeSpan.FromSeconds(1.5));
        Assert.That(await verdict.WaitAsync(TimeSpan.FromSeconds(10)), Is.Null);
    }

    private static ServiceSnapshot Running(string name) => new()
    {
        Name = name,
        Status = ServiceStatus.Running,
        SubState = "running",
        Pid = 4242,
    };

    private static HealthReport Report(string service, HealthState state, string? error) => new()
    {
        Service = service,
        State = state,
        LastError = error,
    };

    /// <summary>Moves the clock in poll-sized steps, letting the verifier's loop run between them.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        var step = TimeSpan.FromMilliseconds(100);
        for (var moved = TimeSpan.Zero; moved < by; moved += step)
        {
            _time.Advance(step);
            await Task.Delay(2);
        }
    }
}
