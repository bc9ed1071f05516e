using GitProc.Cli;
using GitProc.Core.Tests.TestSupport;
using GitProc.Events;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Cli;

/// <summary>
/// The daemon hands back what a burst of work used once it is quiet: after its start and after each commit, never
/// while commits keep coming, and not again while nothing happens. On fake time with the real event stream.
/// </summary>
[CancelAfter(30_000)]
public sealed class MemorySettlerTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly List<TimeSpan> _settled = [];
    private FakeTimeProvider _time = null!;
    private EventStream _events = null!;
    private MemorySettler _settler = null!;

    [SetUp]
    public async Task SetUp()
    {
        // One fixture instance runs every test: each starts from its own clock and record.
        _time = new FakeTimeProvider(Start);
        _settled.Clear();
        _events = new EventStream(Options.Create(new EventOptions()), _time);
        _settler = new MemorySettler(_events, _time, () =>
        {
            lock (_settled)
            {
                _settled.Add(_time.GetUtcNow() - Start);
            }
        });
        await _settler.StartAsync(CancellationToken.None);
        _ = await ProcScan.WaitUntilAsync(() => _events.SubscriberCount == 1, TimeSpan.FromSeconds(10));
    }

    [TearDown]
    public async Task TearDown()
    {
        await _settler.StopAsync(CancellationToken.None);
        _settler.Dispose();
    }

    [Test]
    public async Task It_settles_once_the_start_up_apply_is_followed_by_quiet_and_not_again_while_nothing_happens()
    {
        await AdvanceUntilSettledAsync(1);
        Assert.That(Settled[0], Is.GreaterThanOrEqualTo(MemorySettler.Quiet));

        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.That(Settled, Has.Count.EqualTo(1), "nothing happened, nothing to hand back");
    }

    [Test]
    public async Task A_commit_within_the_quiet_time_postpones_the_settle_to_quiet_after_it()
    {
        _time.Advance(TimeSpan.FromSeconds(3));
        _events.Publish(new GitProcEvent { Type = EventTypes.CommitApplied, Commit = "abc" });

        await AdvanceUntilSettledAsync(1);
        Assert.That(Settled, Has.Count.EqualTo(1));
        Assert.That(Settled[0], Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(3) + MemorySettler.Quiet), "never within the quiet time after a commit");
    }

    [Test]
    public async Task Each_commit_after_a_settle_is_settled_once_its_work_is_done_and_service_events_alone_are_not()
    {
        await AdvanceUntilSettledAsync(1);

        _events.Publish(new GitProcEvent { Type = EventTypes.ServiceRecord, Service = "web", From = "running", To = "failed" });
        var rolledBack = _time.GetUtcNow() - Start;
        _events.Publish(new GitProcEvent { Type = EventTypes.CommitRolledBack, Commit = "abc" });
        await AdvanceUntilSettledAsync(2);

        Assert.That(Settled[1], Is.GreaterThanOrEqualTo(rolledBack + MemorySettler.Quiet));
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.That(Settled, Has.Count.EqualTo(2), "the service event made no settle of its own");
    }

    private List<TimeSpan> Settled
    {
        get
        {
            lock (_settled)
            {
                return [.. _settled];
            }
        }
    }

    /// <summary>Moves fake time on a second at a time, giving the settler's continuations a moment at each step.</summary>
    private async Task AdvanceUntilSettledAsync(int count)
    {
        for (var step = 0; step < 120 && Settled.Count < count; step++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            _ = await ProcScan.WaitUntilAsync(() => Settled.Count >= count, TimeSpan.FromMilliseconds(50));
        }

        Assert.That(Settled, Has.Count.EqualTo(count), () => $"settled within two minutes of fake time: {string.Join(", ", Settled)}");
    }
}
