namespace GitProc.Processes;

/// <summary>Something <see cref="ProcessEventLoop"/> watches: a pidfd or the read end of an output pipe.</summary>
internal interface IEpollTarget
{
    /// <summary>Called on the event-loop thread when the descriptor is ready; must not block.</summary>
    /// <param name="events">The epoll events.</param>
    void OnReady(uint events);

    /// <summary>Called when the loop shuts down with this target still registered.</summary>
    void Abandon();
}
