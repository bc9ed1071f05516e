namespace GitProc.Logs;

/// <summary>
/// Every service's log file (<c>LogDirectory/NAME.log</c>): each line a service writes is stored as
/// <c>[yyyy-MM-dd HH:mm:ss] line</c>; files rotate by size (<see cref="LogOptions.MaxFileBytes"/>) into
/// <c>NAME.log.1</c> (newest) … <c>NAME.log.N</c> and keep at most <see cref="LogOptions.MaxFiles"/> of them.
/// Every method throws <see cref="ArgumentException"/> for a name that is not a valid unit name (only
/// <c>[A-Za-z0-9:_.@-]</c>, not starting with <c>.</c>), so no name reaches outside the log directory.
/// </summary>
public interface IServiceLogs
{
    /// <summary>
    /// Opens a writer that appends a service's raw output to its log. Several writers of one service (stdout and
    /// stderr of the main process, an <c>ExecStartPost</c> command) may be open at once; each keeps its own partial
    /// line, and whole lines never interleave. The file is created (with its directory) on the first write.
    /// Lines that cannot be stored (a failing disk, or over <paramref name="rateLimit"/>) leave one stamped marker line,
    /// <c>gitproc: N lines dropped: REASON</c>, where they are missing.
    /// </summary>
    /// <param name="service">The service name.</param>
    /// <param name="rateLimit">The service's log rate limit (<c>LogRateLimitBurst=</c> per
    /// <c>LogRateLimitIntervalSec=</c>); <see langword="null"/> or a disabled limit for none. It is the service's, shared
    /// by all its writers: the one given last applies.</param>
    /// <returns>A writer; dispose it to store a partial last line as a line.</returns>
    IServiceLogWriter OpenWriter(string service, LogRateLimit? rateLimit = null);

    /// <summary>
    /// Reads the last <paramref name="count"/> stored lines of a service, oldest first, seeking from the end of
    /// the file (the cost is the lines returned, not the file's size, so it is fast on a multi-gigabyte log) and
    /// reaching into rotated files when the current one is short. An unterminated last line counts as a line.
    /// </summary>
    /// <param name="service">The service name.</param>
    /// <param name="count">How many lines at most; 0 gives an empty list.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The lines, stamps included, without line terminators; empty when the service has no log.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    Task<IReadOnlyList<string>> ReadLastLinesAsync(string service, int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// Yields each line appended to a service's log after this call, as it arrives, across rotations. The start is
    /// taken when this method is called, not when enumeration begins; a caller that shows the tail first and then
    /// calls this may miss a line written between the two calls (a window of microseconds), never one written
    /// later. The enumeration ends when the store is disposed; cancelling <paramref name="cancellationToken"/> (or
    /// the token given to <c>WithCancellation</c>) ends it by throwing <see cref="OperationCanceledException"/>,
    /// as <c>ChannelReader.ReadAllAsync</c> does. A follower more than <see cref="LogOptions.MaxFiles"/> rotations
    /// behind the writer skips the files already deleted, as <c>tail -F</c> would.
    /// </summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    /// <returns>The new lines, stamps included, without line terminators.</returns>
    IAsyncEnumerable<string> FollowAsync(string service, CancellationToken cancellationToken = default);
}
