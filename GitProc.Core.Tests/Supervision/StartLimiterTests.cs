using GitProc.Supervision;

namespace GitProc.Core.Tests.Supervision;

[TestFixture]
public sealed class StartLimiterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void Allows_burst_starts_within_the_interval_and_refuses_the_next()
    {
        var limiter = new StartLimiter();
        for (var i = 0; i < 5; i++)
        {
            Assert.That(limiter.TryAcquire(5, TimeSpan.FromSeconds(10), T0.AddSeconds(i)), Is.True);
        }

        Assert.That(limiter.TryAcquire(5, TimeSpan.FromSeconds(10), T0.AddSeconds(5)), Is.False);
    }

    [Test]
    public void Starts_older_than_the_interval_no_longer_count()
    {
        var limiter = new StartLimiter();
        for (var i = 0; i < 5; i++)
        {
            limiter.TryAcquire(5, TimeSpan.FromSeconds(10), T0.AddSeconds(i));
        }

        Assert.That(limiter.TryAcquire(5, TimeSpan.FromSeconds(10), T0.AddSeconds(10)), Is.True);
    }

    [Test]
    public void Reset_and_a_zero_interval_lift_the_limit()
    {
        var limiter = new StartLimiter();
        Assert.That(limiter.TryAcquire(1, TimeSpan.FromSeconds(10), T0), Is.True);
        Assert.That(limiter.TryAcquire(1, TimeSpan.FromSeconds(10), T0), Is.False);
        limiter.Reset();
        Assert.That(limiter.TryAcquire(1, TimeSpan.FromSeconds(10), T0), Is.True);
        Assert.That(limiter.TryAcquire(1, TimeSpan.Zero, T0), Is.True);
    }

    [Test]
    public void Forget_takes_back_only_the_most_recent_start()
    {
        var limiter = new StartLimiter();
        Assert.That(limiter.TryAcquire(2, TimeSpan.FromSeconds(10), T0), Is.True);
        Assert.That(limiter.TryAcquire(2, TimeSpan.FromSeconds(10), T0.AddSeconds(1)), Is.True);
        Assert.That(limiter.TryAcquire(2, TimeSpan.FromSeconds(10), T0.AddSeconds(2)), Is.False);

        limiter.Forget();

        Assert.That(limiter.TryAcquire(2, TimeSpan.FromSeconds(10), T0.AddSeconds(2)), Is.True);
        Assert.That(limiter.TryAcquire(2, TimeSpan.FromSeconds(10), T0.AddSeconds(3)), Is.False, "the first start still counts");
        limiter.Reset();
        limiter.Forget();
        Assert.That(limiter.TryAcquire(2, TimeSpan.FromSeconds(10), T0), Is.True, "forgetting with nothing recorded is harmless");
    }
}
