using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using GitProc.Logs;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Processes;

/// <summary>
/// Copies a service's output pipe (stdout and stderr share it) to its <see cref="IServiceLogWriter"/>. The read
/// end is non-blocking and registered one-shot with the <see cref="ProcessEventLoop"/>: when it is readable, a
/// thread-pool work item rents a 64 KiB buffer, reads until the pipe is empty (or a fair share has been copied),
/// returns the buffer and re-arms. An idle service therefore holds no buffer and no thread. Awaiting
/// <see cref="IServiceLogWriter.WriteAsync"/> before reading more is the back-pressure: if the disk is slower than
/// the service, the pipe fills and the service blocks in write(2), so memory stays bounded.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class OutputPump : IEpollTarget
{
    private const int BufferSize = 64 * 1024;

    // Reads per turn before yielding to other services (1 MiB at most).
    private const int ReadsPerTurn = 16;

    private const uint Events = Interop.Processes.EPOLLIN | Interop.Processes.EPOLLONESHOT;

    private readonly SafeFileHandle _read;
    private readonly IServiceLogWriter _writer;
    private readonly ProcessEventLoop _loop;
    private readonly ILogger _logger;
    private readonly string _service;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _id;
    private readonly Lock _turnLock = new();
    private TaskCompletionSource? _turn;
    private bool _detached;
    private bool _writerFailed;
    private int _finished;

    public OutputPump(SafeFileHandle read, IServiceLogWriter writer, ProcessEventLoop loop, ILogger logger, string service)
    {
        _read = read;
        _writer = writer;
        _loop = loop;
        _logger = logger;
        _service = service;
    }

    /// <summary>Completes once the pipe reached end of file (every writer closed it) and the writer was disposed.</summary>
    public Task Completion => _completion.Task;

    public void Start()
    {
        _id = _loop.NewId();
        _loop.Register(_read, _id, Events, this);
    }

    public void OnReady(uint events) =>
        ThreadPool.UnsafeQueueUserWorkItem(static pump => _ = pump.DrainTurnAsync(), this, preferLocal: false);

    /// <summary>
    /// For an in-place upgrade, once the event loop is suspended: waits for a copy in progress to finish, then takes
    /// the start of a line read but not yet ended, which the re-executed daemon continues (nothing read is lost).
    /// </summary>
    public async Task<byte[]> DetachAsync()
    {
        Task? turn;
        lock (_turnLock)
        {
            _detached = true;
            turn = _turn?.Task;
        }

        if (turn is not null)
        {
            await turn.ConfigureAwait(false);
        }

        return _writer is ServiceLogWriter writer ? await writer.DetachPartialAsync().ConfigureAwait(false) : [];
    }

    /// <summary>
    /// One turn of copying, unless the pump was detached: a turn queued before the detach but not yet begun must not
    /// read what the next daemon is to read, and a turn under way is waited for by <see cref="DetachAsync"/>.
    /// </summary>
    private async Task DrainTurnAsync()
    {
        TaskCompletionSource turn;
        lock (_turnLock)
        {
            if (_detached)
            {
                return;
            }

            turn = _turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        try
        {
            await DrainAsync().ConfigureAwait(false);
        }
        finally
        {
            lock (_turnLock)
            {
                _turn = null;
            }

            turn.TrySetResult();
        }
    }

    public void Abandon() => _ = FinishAsync();

    private async Task DrainAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var endOfFile = false;
        try
        {
            for (var turn = 0; turn < ReadsPerTurn; turn++)
            {
                var count = ReadAvailable(buffer);
                if (count < 0)
                {
                    break;
                }

                if (count == 0)
                {
                    endOfFile = true;
                    break;
                }

                if (!_writerFailed)
                {
                    try
                    {
                        await _writer.WriteAsync(buffer.AsMemory(0, count)).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        // A failing sink must not stall the service: keep draining the pipe, discarding.
                        _writerFailed = true;
                        Log.OutputWriteFailed(_logger, _service, ex);
                    }
                }
            }
        }
        catch (Exception ex)
        {
            Log.OutputReadFailed(_logger, _service, ex.Message);
            endOfFile = true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (endOfFile)
        {
            await FinishAsync().ConfigureAwait(false);
            return;
        }

        try
        {
            // Level-triggered: if data is still waiting, the loop reports it again at once.
            _loop.Rearm(_read, _id, Events);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            await FinishAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Bytes read, 0 at end of file, -1 when the pipe is empty for now.</summary>
    private unsafe int ReadAvailable(byte[] buffer)
    {
        fixed (byte* data = buffer)
        {
            while (true)
            {
                var count = Interop.Processes.Read(_read, data, buffer.Length);
                if (count >= 0)
                {
                    return (int)count;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Processes.EINTR)
                {
                    continue;
                }

                if (errno == Interop.Processes.EAGAIN)
                {
                    return -1;
                }

                throw new IOException(Marshal.GetPInvokeErrorMessage(errno));
            }
        }
    }

    private async Task FinishAsync()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        _loop.Unregister(_read, _id);
        _read.Dispose();
        try
        {
            // Disposing flushes a partial last line.
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.OutputWriteFailed(_logger, _service, ex);
        }

        _completion.TrySetResult();
    }
}
