using GitProc.Git;
using GitProc.Reconciliation;

namespace GitProc.Core.Tests.Reconciliation;

/// <summary>When the watch loop fetches: a stable per-daemon phase spread over the interval, and jittered exponential backoff.</summary>
[TestFixture]
public sealed class FetchScheduleTests
{
    private static readonly GitOptions Options = new()
    {
        FetchInterval = TimeSpan.FromSeconds(60),
        FetchRetryDelay = TimeSpan.FromSeconds(2),
        FetchRetryMaxDelay = TimeSpan.FromSeconds(60),
    };

    [Test]
    public void Retries_back_off_exponentially_within_the_jitter_band_up_to_the_maximum()
    {
        var low = new FetchSchedule(Options, "host\n/repo", () => 0.0);
        var high = new FetchSchedule(Options, "host\n/repo", () => 0.999999);

        double[] expected = [2, 4, 8, 16, 32, 60, 60];
        for (var failures = 1; failures <= expected.Length; failures++)
        {
            var ceiling = expected[failures - 1];
            Assert.That(low.RetryDelay(failures).TotalSeconds, Is.EqualTo(ceiling / 2).Within(0.001), $"after {failures} failures, the least");
            Assert.That(high.RetryDelay(failures).TotalSeconds, Is.EqualTo(ceiling).Within(0.001), $"after {failures} failures, the most");
        }

        Assert.That(low.RetryDelay(1000).TotalSeconds, Is.EqualTo(30).Within(0.001), "no overflow after many failures");
    }

    [Test]
    public void After_a_success_the_next_fetch_is_at_the_daemons_phase_of_the_next_interval()
    {
        var schedule = new FetchSchedule(Options, "host\n/repo", Random.Shared.NextDouble);
        var now = new DateTimeOffset(2026, 12, 1, 10, 0, 7, TimeSpan.Zero);

        var next = schedule.NextAfterSuccess(now);
        var after = schedule.NextAfterSuccess(next);

        Assert.That((next - DateTimeOffset.UnixEpoch).Ticks % Options.FetchInterval.Ticks, Is.EqualTo(schedule.Phase.Ticks));
        Assert.That(next - now, Is.GreaterThan(TimeSpan.FromSeconds(30)).And.LessThanOrEqualTo(TimeSpan.FromSeconds(90)));
        Assert.That(after - next, Is.EqualTo(Options.FetchInterval), "on schedule, one interval apart");
    }

    [Test]
    public void Phases_are_stable_per_daemon_and_spread_over_the_interval()
    {
        var phases = Enumerable.Range(0, 50)
            .Select(i => FetchSchedule.PhaseOf($"host\n/var/lib/gitproc/{i}/services", Options.FetchInterval).TotalSeconds)
            .Order()
            .ToList();

        // Pinned: the same in every process and every run (string.GetHashCode would differ per process).
        Assert.That(FetchSchedule.PhaseOf("host\n/repo", Options.FetchInterval), Is.EqualTo(TimeSpan.FromTicks(521134188)));
        Assert.That(phases, Is.All.InRange(0, 60));

        // 50 daemons: no fifth of the interval without a fetch, and none holding more than a fifth of the fleet.
        var gaps = phases.Zip(phases.Skip(1), (a, b) => b - a).Append(60 - phases[^1] + phases[0]);
        Assert.That(gaps.Max(), Is.LessThan(12), string.Join(", ", phases));
        for (var start = 0; start < 60; start += 6)
        {
            Assert.That(phases.Count(p => p >= start && p < start + 12), Is.LessThan(20), $"a burst from {start} s: {string.Join(", ", phases)}");
        }
    }
}
