using GitProc.Readiness;

namespace GitProc.Core.Tests.Readiness;

/// <summary>sd_notify(3)'s assignments as GitProc reads them.</summary>
public sealed class NotifyMessageTests
{
    [Test]
    public void Every_assignment_GitProc_acts_on_is_read_from_one_datagram()
    {
        var message = NotifyMessage.Parse("READY=1\nSTATUS=Serving 3 clients\nMAINPID=4242\nEXTEND_TIMEOUT_USEC=5000000\nWATCHDOG=1\nWATCHDOG_USEC=2000000\nSTOPPING=1\nRELOADING=1");
        Assert.That(message.Ready && message.Stopping && message.Reloading && message.WatchdogPing, Is.True);
        Assert.That(message.Status, Is.EqualTo("Serving 3 clients"));
        Assert.That(message.MainPid, Is.EqualTo(4242));
        Assert.That(message.ExtendTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(message.WatchdogInterval, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(message.WatchdogTrigger, Is.False);
    }

    [TestCase("READY=0")]
    [TestCase("READY")]
    [TestCase("MAINPID=0")]
    [TestCase("MAINPID=-5")]
    [TestCase("MAINPID=12ab")]
    [TestCase("EXTEND_TIMEOUT_USEC=soon")]
    [TestCase("FDSTORE=1\nERRNO=2\nBARRIER=1")]
    [TestCase("")]
    [TestCase("=1\n\n")]
    public void Malformed_or_unused_assignments_are_ignored(string text)
    {
        Assert.That(NotifyMessage.Parse(text).IsEmpty, Is.True);
    }

    [Test]
    public void An_empty_STATUS_clears_the_text_and_WATCHDOG_trigger_is_told_from_a_ping()
    {
        Assert.That(NotifyMessage.Parse("STATUS=").Status, Is.Empty);
        var trigger = NotifyMessage.Parse("WATCHDOG=trigger");
        Assert.That((trigger.WatchdogTrigger, trigger.WatchdogPing), Is.EqualTo((true, false)));
    }
}
