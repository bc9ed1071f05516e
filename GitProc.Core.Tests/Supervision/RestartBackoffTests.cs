using GitProc.Supervision;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Supervision;

[TestFixture]
public sealed class RestartBackoffTests
{
    [Test]
    public void Without_steps_the_delay_is_RestartSec()
    {
        var unit = UnitFileParser.Parse("x.service", "[Service]\nExecStart=/bin/true\nRestartSec=2s\n");
        Assert.That(RestartBackoff.Delay(unit, 1), Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(RestartBackoff.Delay(unit, 50), Is.EqualTo(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void Steps_grow_the_delay_geometrically_up_to_the_maximum()
    {
        var unit = UnitFileParser.Parse("x.service", "[Service]\nExecStart=/bin/true\nRestartSec=100ms\nRestartSteps=4\nRestartMaxDelaySec=1600ms\n");

        // r_i = 100ms * 16^(i/4): 100, 200, 400, 800, then the maximum.
        Assert.That(RestartBackoff.Delay(unit, 0).TotalMilliseconds, Is.EqualTo(100).Within(0.5));
        Assert.That(RestartBackoff.Delay(unit, 1).TotalMilliseconds, Is.EqualTo(200).Within(0.5));
        Assert.That(RestartBackoff.Delay(unit, 2).TotalMilliseconds, Is.EqualTo(400).Within(0.5));
        Assert.That(RestartBackoff.Delay(unit, 3).TotalMilliseconds, Is.EqualTo(800).Within(0.5));
        Assert.That(RestartBackoff.Delay(unit, 4), Is.EqualTo(TimeSpan.FromMilliseconds(1600)));
        Assert.That(RestartBackoff.Delay(unit, 40), Is.EqualTo(TimeSpan.FromMilliseconds(1600)));
    }

    [Test]
    public void An_infinite_maximum_keeps_RestartSec()
    {
        var unit = UnitFileParser.Parse("x.service", "[Service]\nExecStart=/bin/true\nRestartSec=1s\nRestartSteps=5\n");
        Assert.That(RestartBackoff.Delay(unit, 3), Is.EqualTo(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public void A_start_the_daemon_could_not_make_is_retried_after_1_s_doubling_up_to_30_s()
    {
        var delays = Enumerable.Range(1, 8).Select(RestartBackoff.ShortageDelay).Select(d => d.TotalSeconds);

        Assert.That(delays, Is.EqualTo(new double[] { 1, 2, 4, 8, 16, 30, 30, 30 }));
    }
}
