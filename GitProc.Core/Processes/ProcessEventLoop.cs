using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Processes;

/// <summary>
/// ONE thread blocked in <c>epoll_wait</c> for every service: it sees a pidfd become readable when a main process
/// exits, and an output pipe become readable when a service writes. Nothing is polled and no thread is kept per
/// process; descriptors are added with <c>epoll_ctl</c> from any thread (epoll picks them up while the loop waits),
/// and an eventfd only wakes the loop to shut it down.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class ProcessEventLoop : IDisposable
{
    private const int MaxEvents = 64;
    private const long WakeId = 0;

    private readonly ConcurrentDictionary<long, IEpollTarget> _targets = new();
    private readonly SafeFileHandle _epoll;
    private readonly SafeFileHandle _wake;
    private readonly Thread _thread;
    private readonly ILogger _logger;
    private long _nextId;
    private volatile bool _disposed;
    private volatile bool _suspended;

    public ProcessEventLoop(ILogger logger)
    {
        _logger = logger;
        _epoll = Check(Interop.Processes.EpollCreate1(Interop.Processes.EPOLL_CLOEXEC), "epoll_create1");
        _wake = Check(Interop.Processes.EventFd(0, Interop.Processes.EFD_CLOEXEC | Interop.Processes.EFD_NONBLOCK), "eventfd");
        Control(Interop.Processes.EPOLL_CTL_ADD, _wake, WakeId, Interop.Processes.EPOLLIN);

        // Blocked in native code almost all the time, so a small stack suffices.
        _thread = new Thread(Run, maxStackSize: 256 * 1024) { IsBackground = true, Name = "gitproc-process-events" };
        _thread.Start();
    }

    /// <summary>
    /// A new registration id. Targets take it before registering, because their first event may arrive (on the
    /// loop thread) before <see cref="Register"/> returns.
    /// </summary>
    public long NewId() => Interlocked.Increment(ref _nextId);

    /// <summary>Adds <paramref name="fd"/> under <paramref name="id"/> (from <see cref="NewId"/>).</summary>
    public void Register(SafeFileHandle fd, long id, uint events, IEpollTarget target)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _targets[id] = target;
        try
        {
            Control(Interop.Processes.EPOLL_CTL_ADD, fd, id, events);
        }
        catch
        {
            _targets.TryRemove(id, out _);
            throw;
        }
    }

    /// <summary>Re-arms a one-shot registration.</summary>
    public void Rearm(SafeFileHandle fd, long id, uint events) => Control(Interop.Processes.EPOLL_CTL_MOD, fd, id, events);

    /// <summary>Removes a registration; call it before closing the descriptor.</summary>
    public void Unregister(SafeFileHandle fd, long id)
    {
        if (_targets.TryRemove(id, out _) && !fd.IsClosed)
        {
            var ev = stackalloc byte[16];
            _ = Interop.Processes.EpollCtl(_epoll, Interop.Processes.EPOLL_CTL_DEL, fd, ev);
        }
    }

    /// <summary>
    /// Stops handling events for good, leaving every registration in place: exits stay unreaped and output stays in
    /// its pipes, for a re-executed daemon to take over. Returns once the loop thread has stopped.
    /// </summary>
    public void Suspend()
    {
        if (_suspended || _disposed)
        {
            return;
        }

        _suspended = true;
        StopThread();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        StopThread();

        foreach (var id in _targets.Keys)
        {
            if (_targets.TryRemove(id, out var target))
            {
                target.Abandon();
            }
        }

        _epoll.Dispose();
        _wake.Dispose();
    }

    private void StopThread()
    {
        ulong one = 1;
        _ = Interop.Processes.Write(_wake, (byte*)&one, sizeof(ulong));
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }

    private void Run()
    {
        var size = Interop.Processes.EpollEventSize;
        var dataOffset = Interop.Processes.EpollDataOffset;
        var events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * size));
        try
        {
            while (!_disposed && !_suspended)
            {
                var count = Interop.Processes.EpollWait(_epoll, events, MaxEvents, -1);
                if (count < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Interop.Processes.EINTR)
                    {
                        continue;
                    }

                    Log.EventLoopFailed(_logger, Marshal.GetPInvokeErrorMessage(errno));
                    return;
                }

                for (var i = 0; i < count; i++)
                {
                    var ev = events + (i * size);
                    var id = *(long*)(ev + dataOffset);
                    if (id != WakeId && _targets.TryGetValue(id, out var target))
                    {
                        try
                        {
                            target.OnReady(*(uint*)ev);
                        }
                        catch (Exception ex)
                        {
                            Log.EventHandlerFailed(_logger, ex);
                        }
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    private void Control(int operation, SafeFileHandle fd, long id, uint events)
    {
        var ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(long*)(ev + Interop.Processes.EpollDataOffset) = id;
        if (Interop.Processes.EpollCtl(_epoll, operation, fd, ev) != 0)
        {
            throw new IOException($"epoll_ctl failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    private static SafeFileHandle Check(int fd, string call) => fd >= 0
        ? Interop.Processes.ToHandle(fd)
        : throw new IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
}
