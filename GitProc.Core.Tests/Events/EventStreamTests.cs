using GitProc.Events;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Events;

public sealed class EventStreamTests
{
    private static EventStream Create(int buffer = 1000, TimeProvider? time = null) =>
        new(Options.Create(new EventOptions { SubscriberBuffer = buffer }), time ?? TimeProvider.System);

    private static GitProcEvent State(string service, string to = "running") =>
        new() { Type = EventTypes.ServiceRecord, Service = service, To = to };

    [Test]
    [CancelAfter(10_000)]
    public async Task Events_get_increasing_numbers_and_the_time_of_publishing_and_arrive_in_order(CancellationToken token)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 3, 10, 0, TimeSpan.Zero));
        var stream = Create(time: time);
        using var subscription = stream.Subscribe();
        stream.Publish(State("web"));
        time.Advance(TimeSpan.FromSeconds(1));
        stream.Publish(State("db"));

        var received = new List<GitProcEvent>();
        await foreach (var e in subscription.ReadAllAsync(token))
        {
            received.Add(e);
            if (received.Count == 2)
            {
                break;
            }
        }

        Assert.That(received.Select(e => e.Seq), Is.EqualTo(new long[] { 1, 2 }));
        Assert.That(received.Select(e => e.Service), Is.EqualTo(new[] { "web", "db" }));
        Assert.That(received[1].Time, Is.EqualTo(new DateTimeOffset(2026, 12, 1, 3, 10, 1, TimeSpan.Zero)));
    }

    [Test]
    public void Filters_select_by_service_and_by_type_or_family()
    {
        var applied = new GitProcEvent { Type = EventTypes.CommitApplied, Commit = "abc" };
        Assert.That(new EventFilter("web").Matches(State("web")), Is.True);
        Assert.That(new EventFilter("web").Matches(State("db")), Is.False);
        Assert.That(new EventFilter("web").Matches(applied), Is.False, "a commit is about no one service");
        Assert.That(new EventFilter(Types: ["commit"]).Matches(applied), Is.True);
        Assert.That(new EventFilter(Types: ["commit.applied"]).Matches(applied), Is.True);
        Assert.That(new EventFilter(Types: ["comm"]).Matches(applied), Is.False, "a family is a whole name before the dot");
        Assert.That(new EventFilter(Types: ["service.state"]).Matches(applied), Is.False);
        Assert.That(EventFilter.FindUnknownType(["commit", "health.changed", "service.stat"]), Is.EqualTo("service.stat"));
    }

    [Test]
    public void A_subscriber_that_falls_behind_is_dropped_with_the_reason_and_the_others_keep_receiving()
    {
        var stream = Create(buffer: 3);
        using var slow = stream.Subscribe();
        using var other = stream.Subscribe(new EventFilter("db"));
        for (var i = 0; i < 4; i++)
        {
            stream.Publish(State("web"));
        }

        Assert.That(slow.DropReason, Does.StartWith("dropped: this subscriber fell 3 events behind (Events:SubscriberBuffer)"));
        Assert.That(slow.Dropped.WaitHandle.WaitOne(5_000), Is.True, "Dropped fires");
        Assert.That(stream.SubscriberCount, Is.EqualTo(1), "the dropped one is gone");
        Assert.That(other.DropReason, Is.Null, "filtered-out events do not count against a subscriber");
        stream.Publish(State("db"));
        Assert.That(other.DropReason, Is.Null);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Disposing_ends_the_reader_and_unsubscribes(CancellationToken token)
    {
        var stream = Create();
        var subscription = stream.Subscribe();
        var readOne = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Task.Run(async () =>
        {
            var count = 0;
            await foreach (var _ in subscription.ReadAllAsync(token))
            {
                count++;
                readOne.TrySetResult();
            }

            return count;
        }, token);
        stream.Publish(State("web"));

        // Disposed once the reader has had the one event, wherever in its loop it is now: it must end either way.
        await readOne.Task.WaitAsync(token);
        subscription.Dispose();
        Assert.That(await reading, Is.EqualTo(1));
        Assert.That(stream.SubscriberCount, Is.Zero);
    }
}
