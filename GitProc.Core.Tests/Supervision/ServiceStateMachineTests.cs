using GitProc.Processes;
using GitProc.State;
using GitProc.Supervision;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Supervision;

/// <summary>A service's states and transitions, driven without any process.</summary>
[TestFixture]
public sealed class ServiceStateMachineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly ProcessExit Crash = new(1, null);
    private static readonly ProcessExit Clean = new(0, null);

    [Test]
    public void The_words_users_see_are_systemds_and_one_per_sub_state()
    {
        var words = Enum.GetValues<ServiceSubState>().Select(s => s.ToText()).ToList();

        Assert.That(words, Is.EqualTo(new[]
        {
            "dead", "condition", "starting", "running", "stopping", "reloading", "exited", "auto-restart",
            "waiting-for-resources", "failed", "start-limit-hit", "dependency-failed",
        }));
    }

    [Test]
    public void A_crash_under_on_failure_waits_RestartSec_in_auto_restart_and_the_restart_is_counted()
    {
        var unit = Unit("Restart=on-failure\nRestartSec=5s");
        var state = Running(unit);

        var ending = state.Ended(unit, Crash, T0);

        Assert.That(ending, Is.EqualTo(new ServiceStateMachine.Ending(Restart: true, TimeSpan.FromSeconds(5), Clean: false, Unhealthy: false, WaitingForResources: false)));
        Assert.That((state.Status, state.SubState, state.LastExitCode), Is.EqualTo((ServiceStatus.Failed, ServiceSubState.AutoRestart, (int?)1)));
        Assert.That(state.IsActive(hasProcess: false), Is.True, "waiting to restart: an operator's start would be redundant");

        state.BeginRestart();
        Assert.That((state.SubState, state.RestartCount), Is.EqualTo((ServiceSubState.Starting, 1)));
    }

    [Test]
    public void The_restart_delay_grows_with_each_restart_over_RestartSteps()
    {
        var unit = Unit("Restart=always\nRestartSec=100ms\nRestartSteps=4\nRestartMaxDelaySec=1600ms\n[Unit]\nStartLimitIntervalSec=0");
        var state = Running(unit);
        var delays = Enumerable.Range(0, 5).Select(i => CrashAndRestart(state, unit, T0.AddSeconds(i)).Delay).ToList();

        Assert.That(delays.Select(d => Math.Round(d.TotalMilliseconds)), Is.EqualTo(new double[] { 200, 400, 800, 1600, 1600 }));
    }

    [Test]
    public void More_starts_than_the_burst_within_the_interval_fail_the_service_until_an_operator_starts_it()
    {
        var unit = Unit("Restart=always\nRestartSec=0\n[Unit]\nStartLimitBurst=3\nStartLimitIntervalSec=30");
        var state = Running(unit, T0);

        Assert.That(CrashAndRestart(state, unit, T0.AddSeconds(1)).Restart, Is.True);
        Assert.That(CrashAndRestart(state, unit, T0.AddSeconds(2)).Restart, Is.True);
        var fourth = state.Ended(unit, Crash, T0.AddSeconds(3));

        Assert.That(fourth.Restart, Is.False);
        Assert.That((state.Status, state.SubState, state.RestartCount), Is.EqualTo((ServiceStatus.Failed, ServiceSubState.StartLimitHit, 2)));
        Assert.That(state.FailureReason, Does.StartWith("start request repeated too quickly: more than 3 starts within 30s"));
        Assert.That(state.IsActive(hasProcess: false), Is.False);
        Assert.That(state.TryBeginStart(unit, T0.AddSeconds(4)), Is.False, "still within the interval: a start from the apply is refused too");

        state.ClearForOperatorStart();
        Assert.That(state.TryBeginStart(unit, T0.AddSeconds(5)), Is.True);
        Assert.That((state.SubState, state.FailureReason), Is.EqualTo((ServiceSubState.Starting, (string?)null)));
    }

    [Test]
    public void Starts_older_than_the_interval_no_longer_count()
    {
        var unit = Unit("Restart=always\nRestartSec=0\n[Unit]\nStartLimitBurst=2\nStartLimitIntervalSec=10");
        var state = Running(unit, T0);
        Assert.That(CrashAndRestart(state, unit, T0.AddSeconds(1)).Restart, Is.True);

        Assert.That(state.Ended(unit, Crash, T0.AddSeconds(10)).Restart, Is.True, "the first start is 10 s old");
    }

    [TestCase("simple", false, ServiceStatus.Stopped, "dead")]
    [TestCase("oneshot", false, ServiceStatus.Stopped, "exited")]
    [TestCase("oneshot", true, ServiceStatus.Running, "exited")]
    public void A_clean_end_without_restart_is_dead_or_exited_and_a_remaining_oneshot_stays_active(string type, bool remain, ServiceStatus status, string subState)
    {
        var unit = Unit($"Type={type}\nRemainAfterExit={(remain ? "yes" : "no")}");
        var state = Running(unit);

        var ending = state.Ended(unit, Clean, T0);

        Assert.That((ending.Restart, ending.Clean), Is.EqualTo((false, true)));
        Assert.That((state.Status, state.SubState.ToText(), state.ExitedActive), Is.EqualTo((status, subState, remain)));
        Assert.That(state.IsActive(hasProcess: false), Is.EqualTo(remain));
    }

    [Test]
    public void An_unrestarted_failure_says_how_the_main_process_ended()
    {
        var unit = Unit("Restart=no");
        var state = Running(unit);

        state.Ended(unit, new ProcessExit(null, 9), T0);

        Assert.That((state.Status, state.SubState), Is.EqualTo((ServiceStatus.Failed, ServiceSubState.Failed)));
        Assert.That(state.FailureReason, Is.EqualTo("main process killed by signal 9"));
        Assert.That(state.LastExitCode, Is.EqualTo(137));
    }

    [Test]
    public void The_dash_prefix_forgives_a_non_zero_exit_but_not_an_OOM_kill()
    {
        var unit = UnitFileParser.Parse("x.service", "[Service]\nExecStart=-/bin/false\nRestart=on-failure\nMemoryMax=64M\n");
        var state = Running(unit);

        Assert.That(state.Ended(unit, Crash, T0), Is.EqualTo(new ServiceStateMachine.Ending(false, TimeSpan.Zero, Clean: true, Unhealthy: false, WaitingForResources: false)));
        Assert.That(state.SubState, Is.EqualTo(ServiceSubState.Dead));

        state.Started();
        var oom = state.Ended(unit, Crash with { OomKilled = true }, T0.AddSeconds(1));
        Assert.That((oom.Restart, oom.Clean), Is.EqualTo((true, false)));
        Assert.That(state.FailureReason, Does.StartWith("out of memory (OOM killer"));
    }

    [Test]
    public void A_failed_health_check_restarts_the_next_ending_whatever_Restart_says()
    {
        var unit = Unit("Restart=no");
        var state = Running(unit);

        state.RestartForHealth();
        var ending = state.Ended(unit, new ProcessExit(null, 15), T0);

        Assert.That((ending.Restart, ending.Unhealthy), Is.EqualTo((true, true)));
        Assert.That(state.FailureReason, Is.EqualTo("health check failed"));
        Assert.That(state.Ended(unit, new ProcessExit(null, 15), T0.AddSeconds(1)).Restart, Is.False, "only the ending it asked for");
    }

    [Test]
    public void A_start_the_daemon_could_not_make_waits_with_backoff_uncounted_and_outside_the_start_limit()
    {
        var unit = Unit("Restart=no\n[Unit]\nStartLimitBurst=1");
        var state = new ServiceStateMachine();
        Assert.That(state.TryBeginStart(unit, T0), Is.True);

        var delays = new List<TimeSpan>();
        for (var i = 0; i < 3; i++)
        {
            state.BeginLaunch();
            state.ShortOfResources("the daemon is out of file descriptors");
            var ending = state.Ended(unit, new ProcessExit(203, null), T0.AddSeconds(i));
            Assert.That((ending.Restart, ending.WaitingForResources), Is.EqualTo((true, true)));
            Assert.That((state.Status, state.SubState, state.LastExitCode), Is.EqualTo((ServiceStatus.Stopped, ServiceSubState.WaitingForResources, (int?)null)));
            delays.Add(ending.Delay);
            state.BeginRestart();
        }

        state.BeginLaunch();
        state.Started();

        Assert.That(delays, Is.EqualTo(new[] { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4) }));
        Assert.That(state.FailureReason, Is.Null);
        Assert.That((state.Status, state.RestartCount), Is.EqualTo((ServiceStatus.Running, 0)), "retrying a start that never happened is no restart");
    }

    [Test]
    public void A_stop_goes_through_stopping_to_dead_and_an_operators_stop_persists_until_the_unit_changes()
    {
        var unit = Unit("Restart=always");
        var state = Running(unit);

        Assert.That(state.BeginStop(hasProcess: true), Is.False);
        Assert.That(state.SubState, Is.EqualTo(ServiceSubState.Stopping));
        state.Stopped(new ProcessExit(null, 15), manual: true);

        Assert.That((state.Status, state.SubState, state.ManuallyStopped, state.LastExitCode), Is.EqualTo((ServiceStatus.Stopped, ServiceSubState.Dead, true, (int?)143)));

        state.UnitReplaced();
        Assert.That(state.ManuallyStopped, Is.False);
    }

    [Test]
    public void A_oneshot_that_remained_active_stops_through_its_ExecStop()
    {
        var unit = Unit("Type=oneshot\nRemainAfterExit=yes");
        var state = Running(unit);
        state.Ended(unit, Clean, T0);

        Assert.That(state.BeginStop(hasProcess: false), Is.True, "its ExecStop= still has to run");
        Assert.That((state.SubState, state.ExitedActive), Is.EqualTo((ServiceSubState.Stopping, false)));
    }

    [Test]
    public void What_users_see_adds_the_unmet_condition_and_what_a_running_service_announced()
    {
        var unit = Unit("Restart=no");
        var state = new ServiceStateMachine();

        Assert.That(state.Shown(conditionUnmet: true), Is.EqualTo(ServiceSubState.Condition));
        Assert.That(state.Shown(conditionUnmet: false), Is.EqualTo(ServiceSubState.Dead));

        state.Fail(ServiceSubState.DependencyFailed, "required dependency db is not running");
        Assert.That(state.Shown(conditionUnmet: true), Is.EqualTo(ServiceSubState.DependencyFailed));

        state = Running(unit);
        Assert.That(state.Shown(false, (Stopping: true, Reloading: false)), Is.EqualTo(ServiceSubState.Stopping));
        Assert.That(state.Shown(false, (Stopping: false, Reloading: true)), Is.EqualTo(ServiceSubState.Reloading));
        Assert.That(state.Shown(false), Is.EqualTo(ServiceSubState.Running));
    }

    [Test]
    public void A_previous_daemons_record_is_taken_over()
    {
        var state = new ServiceStateMachine();

        state.Restore(new ServiceRecord { Name = "x", Status = ServiceStatus.Stopped, RestartCount = 4, ManuallyStopped = true, LastExitCode = 3 });

        Assert.That((state.RestartCount, state.ManuallyStopped, state.LastExitCode), Is.EqualTo((4, true, (int?)3)));
    }

    private static UnitFile Unit(string service) =>
        UnitFileParser.Parse("x.service", "[Service]\nExecStart=/bin/true\n" + service + "\n");

    private static ServiceStateMachine Running(UnitFile unit, DateTimeOffset? startedAt = null)
    {
        var state = new ServiceStateMachine();
        Assert.That(state.TryBeginStart(unit, startedAt ?? T0.AddMinutes(-1)), Is.True);
        state.Started();
        return state;
    }

    /// <summary>The main process crashes at <paramref name="at"/>; the restart the state machine decided on runs.</summary>
    private static ServiceStateMachine.Ending CrashAndRestart(ServiceStateMachine state, UnitFile unit, DateTimeOffset at)
    {
        var ending = state.Ended(unit, Crash, at);
        state.BeginRestart();
        state.Started();
        return ending;
    }
}
