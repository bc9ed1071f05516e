using Microsoft.Extensions.Options;

namespace GitProc.Events;

/// <summary>
/// The default <see cref="IEventStream"/>. Publishing takes one short lock (so every subscriber sees the events in
/// sequence order) and appends to each matching subscriber's bounded queue; it never waits for a reader.
/// </summary>
internal sealed class EventStream(IOptions<EventOptions> options, TimeProvider timeProvider) : IEventStream
{
    private readonly int _capacity = options.Value.SubscriberBuffer;
    private readonly Lock _publishLock = new();

    // Copied on change, read without a lock: subscribing is rare, publishing is not.
    private EventSubscription[] _subscribers = [];
    private long _sequence;

    public int SubscriberBuffer => _capacity;

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    public void Publish(GitProcEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        lock (_publishLock)
        {
            var numbered = e with { Seq = ++_sequence, Time = e.Time == default ? timeProvider.GetUtcNow() : e.Time };
            foreach (var subscriber in Volatile.Read(ref _subscribers))
            {
                subscriber.Offer(numbered);
            }
        }
    }

    public IEventSubscription Subscribe(EventFilter? filter = null)
    {
        var subscription = new EventSubscription(filter ?? EventFilter.All, _capacity, Remove);
        lock (_publishLock)
        {
            _subscribers = [.. _subscribers, subscription];
        }

        return subscription;
    }

    private void Remove(EventSubscription subscription)
    {
        lock (_publishLock)
        {
            _subscribers = Array.FindAll(_subscribers, s => s != subscription);
        }
    }
}
