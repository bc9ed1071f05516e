using System.Text;
using GitProc.Logs;

namespace GitProc.Core.Tests.Processes;

/// <summary>An output sink for tests: collects the bytes and records its disposal.</summary>
internal sealed class CollectingLogWriter : IServiceLogWriter
{
    private readonly MemoryStream _bytes = new();
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Disposed => _disposed.Task;

    public long Length
    {
        get
        {
            lock (_bytes)
            {
                return _bytes.Length;
            }
        }
    }

    public string Text
    {
        get
        {
            lock (_bytes)
            {
                return Encoding.UTF8.GetString(_bytes.GetBuffer(), 0, (int)_bytes.Length);
            }
        }
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> output, CancellationToken cancellationToken = default)
    {
        lock (_bytes)
        {
            _bytes.Write(output.Span);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _disposed.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
