namespace GitProc.Events;

/// <summary>One subscriber's bounded queue of events. Dispose it to unsubscribe.</summary>
public interface IEventSubscription : IDisposable
{
    /// <summary>
    /// The events as they are published, until the subscription is disposed or dropped (then
    /// <see cref="DropReason"/> says why).
    /// </summary>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    /// <returns>The events, in publishing order.</returns>
    IAsyncEnumerable<GitProcEvent> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Why the subscription was dropped (it fell too far behind); <see langword="null"/> while it was not.</summary>
    string? DropReason { get; }

    /// <summary>Fires when the subscription is dropped, from the publisher's side (so without waiting for the reader).</summary>
    CancellationToken Dropped { get; }
}
