namespace GitProc.Logs;

/// <summary>
/// Appends one producer's raw output to a service's log, splitting it into lines and stamping each.
/// </summary>
public interface IServiceLogWriter : IAsyncDisposable
{
    /// <summary>
    /// Writes raw output bytes. Complete lines are stamped and stored; a trailing partial line is kept until
    /// its end arrives or the writer is disposed. The returned task completes once the data is accepted; it
    /// does not wait for the disk beyond a bounded buffer, so a producer faster than the disk is slowed, never
    /// buffered without limit.
    /// </summary>
    /// <param name="output">The bytes, as the process wrote them (UTF-8 expected, invalid bytes replaced).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the bytes are accepted.</returns>
    ValueTask WriteAsync(ReadOnlyMemory<byte> output, CancellationToken cancellationToken = default);
}
