using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Logs;

/// <summary>
/// Reads the last lines of a log by seeking from the end: the cost is the bytes of the lines returned (plus at
/// most one block), never the size of the file, so it stays fast on a multi-gigabyte log.
/// </summary>
internal static class LogTail
{
    private const int BlockBytes = 64 * 1024;

    /// <summary>Reads the last <paramref name="count"/> lines of the files given newest first, oldest line first.</summary>
    public static async Task<IReadOnlyList<string>> ReadLastLinesAsync(
        IReadOnlyList<SafeFileHandle> newestFirst, int count, CancellationToken cancellationToken)
    {
        var perFile = new List<List<string>>();
        var remaining = count;
        var block = ArrayPool<byte>.Shared.Rent(BlockBytes);
        try
        {
            foreach (var handle in newestFirst)
            {
                var length = RandomAccess.GetLength(handle);
                if (length == 0)
                {
                    continue;
                }

                var start = await FindStartAsync(handle, length, remaining, block, cancellationToken).ConfigureAwait(false);
                var lines = await ReadLinesAsync(handle, start, length, block, cancellationToken).ConfigureAwait(false);
                perFile.Add(lines);
                remaining -= lines.Count;
                if (remaining <= 0)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }

        var result = new List<string>(count - Math.Max(remaining, 0));
        for (var i = perFile.Count - 1; i >= 0; i--)
        {
            result.AddRange(perFile[i]);
        }

        return result;
    }

    /// <summary>
    /// Finds the offset where the last <paramref name="count"/> lines of a file begin, reading blocks backwards and
    /// counting separators; 0 when the file has fewer lines.
    /// </summary>
    private static async ValueTask<long> FindStartAsync(
        SafeFileHandle handle, long length, int count, byte[] block, CancellationToken cancellationToken)
    {
        // The newline that ends the last line does not separate it from another one.
        var end = length;
        if (await ReadAsync(handle, block.AsMemory(0, 1), length - 1, cancellationToken).ConfigureAwait(false) == 1 && block[0] == (byte)'\n')
        {
            end--;
        }

        var found = 0;
        while (end > 0)
        {
            var size = (int)Math.Min(BlockBytes, end);
            var blockStart = end - size;
            var read = await ReadAsync(handle, block.AsMemory(0, size), blockStart, cancellationToken).ConfigureAwait(false);
            if (read < size)
            {
                // Truncated while we read it (someone else's rotation); what is left is all there is.
                return 0;
            }

            var index = FindNthNewlineFromEnd(block.AsSpan(0, size), count, ref found);
            if (index >= 0)
            {
                return blockStart + index + 1;
            }

            end = blockStart;
        }

        return 0;
    }

    private static int FindNthNewlineFromEnd(ReadOnlySpan<byte> data, int count, ref int found)
    {
        int index;
        while ((index = data.LastIndexOf((byte)'\n')) >= 0)
        {
            if (++found == count)
            {
                return index;
            }

            data = data[..index];
        }

        return -1;
    }

    private static async ValueTask<List<string>> ReadLinesAsync(
        SafeFileHandle handle, long start, long end, byte[] block, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        var splitter = new LineSplitter();
        for (var position = start; position < end;)
        {
            var size = (int)Math.Min(BlockBytes, end - position);
            var read = await ReadAsync(handle, block.AsMemory(0, size), position, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            splitter.Split(block.AsSpan(0, read), lines);
            position += read;
        }

        if (splitter.HasPartial)
        {
            lines.Add(splitter.TakePartial());
        }

        return lines;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the file ends.</summary>
    private static async ValueTask<int> ReadAsync(SafeFileHandle handle, Memory<byte> buffer, long offset, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await RandomAccess.ReadAsync(handle, buffer[total..], offset + total, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
