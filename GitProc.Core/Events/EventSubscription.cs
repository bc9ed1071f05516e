using System.Globalization;
using System.Runtime.CompilerServices;

namespace GitProc.Events;

/// <summary>
/// One subscriber's queue: at most <c>capacity</c> events wait; one more drops the subscriber (its queue is freed at
/// once, and <see cref="Dropped"/> fires on the thread pool so the publisher runs none of the subscriber's code).
/// </summary>
internal sealed class EventSubscription(EventFilter filter, int capacity, Action<EventSubscription> unsubscribe) : IEventSubscription
{
    private readonly Lock _lock = new();
    private readonly Queue<GitProcEvent> _queue = new();
    private readonly CancellationTokenSource _dropped = new();
    private TaskCompletionSource? _waiter;
    private bool _closed;
    private string? _dropReason;

    public string? DropReason
    {
        get
        {
            lock (_lock)
            {
                return _dropReason;
            }
        }
    }

    public CancellationToken Dropped => _dropped.Token;

    /// <summary>Called by the publisher (under its lock): queues the event, or drops a subscriber that is full.</summary>
    public void Offer(GitProcEvent e)
    {
        if (!filter.Matches(e))
        {
            return;
        }

        TaskCompletionSource? waiter;
        var dropped = false;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            if (_queue.Count >= capacity)
            {
                _closed = dropped = true;
                _queue.Clear();
                _dropReason = string.Create(
                    CultureInfo.InvariantCulture,
                    $"dropped: this subscriber fell {capacity} events behind (Events:SubscriberBuffer) and was disconnected so it cannot slow the daemon; subscribe again to continue from new events (event {e.Seq} was not delivered)");
            }
            else
            {
                _queue.Enqueue(e);
            }

            waiter = _waiter;
            _waiter = null;
        }

        // Continuations run asynchronously (see WaitAsync): waking the reader costs the publisher nothing more.
        waiter?.TrySetResult();
        if (dropped)
        {
            unsubscribe(this);
            ThreadPool.UnsafeQueueUserWorkItem(static s => ((CancellationTokenSource)s!).Cancel(), _dropped);
        }
    }

    public async IAsyncEnumerable<GitProcEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            GitProcEvent? next = null;
            Task wait;
            lock (_lock)
            {
                if (_queue.TryDequeue(out var e))
                {
                    next = e;
                    wait = Task.CompletedTask;
                }
                else if (_closed)
                {
                    yield break;
                }
                else
                {
                    _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _waiter.Task;
                }
            }

            if (next is not null)
            {
                yield return next;
                continue;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (_closed && _dropReason is null)
            {
                return;
            }

            _closed = true;
            _queue.Clear();
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
        unsubscribe(this);
    }
}
