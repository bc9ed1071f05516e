namespace GitProc.Logs;

/// <summary>
/// Appends one producer's raw output (a process's stdout or stderr pipe) to a service's log, splitting it into
/// lines and stamping each <c>[yyyy-MM-dd HH:mm:ss] </c> with the local time the bytes arrived. Calls on one
/// writer are meant to be sequential, as a pipe is read.
/// </summary>
public interface IServiceLogWriter : IAsyncDisposable
{
    /// <summary>
    /// Writes raw output bytes, cut anywhere (chunk boundaries may fall inside a line or a UTF-8 sequence). Each
    /// complete line is stored with its stamp, without its <c>\n</c> or <c>\r\n</c>; a trailing partial line is kept
    /// until its end arrives or the writer is disposed. Bytes are stored as the process wrote them, not re-encoded
    /// (readers decode them as UTF-8, replacing invalid bytes). A line longer than 64 KiB is stored as several lines,
    /// so one endless line never grows memory. The returned task completes once the data is in the file (the OS
    /// page cache), so a producer faster than the disk is slowed down, never buffered without limit. A failing
    /// file (disk full, no permission) does not fail the call: the output is dropped and the failure logged once; a
    /// write that stored only part of a chunk is cut back to its last whole line, and once writing works again a
    /// marker line (<c>gitproc: N lines dropped: No space left on device</c>) stands where the lines are missing.
    /// </summary>
    /// <param name="output">The bytes, as the process wrote them.</param>
    /// <param name="cancellationToken">Cancels waiting for other writers of the same service; once a chunk's
    /// writing has begun it is written whole.</param>
    /// <returns>A task that completes when the bytes are in the file.</returns>
    /// <exception cref="ObjectDisposedException">The writer or the log store was disposed.</exception>
    ValueTask WriteAsync(ReadOnlyMemory<byte> output, CancellationToken cancellationToken = default);
}
