namespace GitProc.Logs;

/// <summary>
/// Every service's log file (<c>LogDirectory/NAME.log</c>): each line a service writes is stored as
/// <c>[yyyy-MM-dd HH:mm:ss] line</c>; files rotate by size and keep a bounded number of old files.
/// </summary>
public interface IServiceLogs
{
    /// <summary>
    /// Opens a writer that appends a service's raw output to its log. Several writers of one service (the main
    /// process, an <c>ExecStartPost</c> command) may be open at once; each keeps its own partial line, and whole
    /// lines never interleave.
    /// </summary>
    /// <param name="service">The service name.</param>
    /// <returns>A writer; dispose it to write a partial last line.</returns>
    IServiceLogWriter OpenWriter(string service);

    /// <summary>
    /// Reads the last <paramref name="count"/> stored lines of a service, oldest first, seeking from the end of
    /// the file (fast on a multi-gigabyte log) and reaching into rotated files when the current one is short.
    /// </summary>
    /// <param name="service">The service name.</param>
    /// <param name="count">How many lines at most.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The lines, without line terminators; empty when the service has no log.</returns>
    Task<IReadOnlyList<string>> ReadLastLinesAsync(string service, int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// Yields each line appended to a service's log from now on, as it arrives, across rotations, until
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    /// <param name="service">The service name.</param>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    /// <returns>The new lines, without line terminators.</returns>
    IAsyncEnumerable<string> FollowAsync(string service, CancellationToken cancellationToken = default);
}
