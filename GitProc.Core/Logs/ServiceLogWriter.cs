using System.Buffers;

namespace GitProc.Logs;

/// <summary>
/// One producer's handle on a service's log. It owns only its partial last line; the file, the stamping and
/// the rotation belong to the shared <see cref="ServiceLogFile"/>, so two producers of one service (the main
/// process and an <c>ExecStartPost</c> command, say) never mix halves of their lines.
/// </summary>
internal sealed class ServiceLogWriter : IServiceLogWriter
{
    private readonly ServiceLogFile _file;
    private byte[]? _partial;
    private int _disposeStarted;

    public ServiceLogWriter(ServiceLogFile file) => _file = file;

    /// <summary>Bytes of a line whose end has not arrived yet (at most <see cref="ServiceLogFile.MaxLineBytes"/>).</summary>
    internal int PartialLength { get; private set; }

    internal ReadOnlySpan<byte> Partial => _partial.AsSpan(0, PartialLength);

    /// <summary>Set by the file, under its lock, once the last line is written: later writes are refused.</summary>
    internal bool IsClosed { get; set; }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> output, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposeStarted) != 0, this);
        return output.IsEmpty ? ValueTask.CompletedTask : _file.WriteAsync(this, output, cancellationToken);
    }

    public ValueTask DisposeAsync() =>
        Interlocked.Exchange(ref _disposeStarted, 1) == 0 ? _file.CloseWriterAsync(this) : ValueTask.CompletedTask;

    /// <summary>Takes the partial last line away (an in-place upgrade hands it to the next daemon); nothing more is written.</summary>
    internal ValueTask<byte[]> DetachPartialAsync() => _file.DetachPartialAsync(this);

    internal void Keep(ReadOnlySpan<byte> bytes)
    {
        // Rented on first use: most chunks end on a line boundary, so most writers never need it.
        _partial ??= ArrayPool<byte>.Shared.Rent(ServiceLogFile.MaxLineBytes);
        bytes.CopyTo(_partial.AsSpan(PartialLength));
        PartialLength += bytes.Length;
    }

    internal void ClearPartial() => PartialLength = 0;

    internal void ReturnBuffer()
    {
        PartialLength = 0;
        if (_partial is not null)
        {
            ArrayPool<byte>.Shared.Return(_partial);
            _partial = null;
        }
    }
}
