namespace GitProc.Supervision;

/// <summary>Who asks a service to stop, which decides whether the stop persists and whether nothing to stop is an error.</summary>
internal enum StopMode
{
    /// <summary>
    /// The daemon's own stop (a restart, a changed or removed unit, shutdown): not remembered, and a service with nothing
    /// running is simply left so.
    /// </summary>
    Daemon,

    /// <summary>
    /// An operator's <c>stop</c>: saved before it is done and kept across daemons until an operator starts the service or
    /// its unit changes. Nothing to stop is an error, except for a failed service (stopping it says "leave it down").
    /// </summary>
    Operator,
}
