namespace GitProc.Events;

/// <summary>The event stream (IPC <c>subscribe</c>, <c>gitproc events</c>).</summary>
public sealed class EventOptions
{
    /// <summary>
    /// How many events one subscriber may have waiting to be sent. A subscriber that falls this far behind (it reads
    /// too slowly, or not at all) is sent one line saying it was dropped and why, then disconnected, so it never slows
    /// the daemon or other subscribers. At least 1. Default 1000.
    /// </summary>
    public int SubscriberBuffer { get; set; } = 1000;
}
