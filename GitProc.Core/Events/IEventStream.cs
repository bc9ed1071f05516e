namespace GitProc.Events;

/// <summary>
/// The daemon's event stream: the supervisor, the health checks and the reconciler publish what happens; IPC
/// <c>subscribe</c> and embedding applications subscribe.
/// </summary>
public interface IEventStream
{
    /// <summary>
    /// Publishes an event: it gets the next sequence number and, unless set, the current time. Never waits for a
    /// subscriber: one whose buffer is full is dropped instead.
    /// </summary>
    /// <param name="e">The event; <see cref="GitProcEvent.Seq"/> is assigned here.</param>
    void Publish(GitProcEvent e);

    /// <summary>Subscribes to the events published from now on that pass <paramref name="filter"/>.</summary>
    /// <param name="filter">Which events; <see langword="null"/> for all.</param>
    /// <returns>The subscription; dispose it to unsubscribe.</returns>
    IEventSubscription Subscribe(EventFilter? filter = null);

    /// <summary>How many events may wait for one subscriber before it is dropped (<see cref="EventOptions.SubscriberBuffer"/>).</summary>
    int SubscriberBuffer { get; }

    /// <summary>How many subscribers there are now.</summary>
    int SubscriberCount { get; }
}
