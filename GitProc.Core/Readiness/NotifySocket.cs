using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using GitProc.Processes;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Readiness;

/// <summary>
/// One service's notification socket (<c>NOTIFY_SOCKET</c>): an <c>AF_UNIX</c> datagram socket with
/// <c>SO_PASSCRED</c>, so the kernel attaches each sender's real PID and uid (<c>SCM_CREDENTIALS</c>; a process can
/// claim another PID only with <c>CAP_SYS_ADMIN</c>). It is non-blocking and watched by a
/// <see cref="ProcessEventLoop"/>: when readable, every queued datagram is read on the loop thread and handed to the
/// receiver. Descriptors a sender passes along (<c>SCM_RIGHTS</c>: <c>FDSTORE=1</c>, or <c>BARRIER=1</c>'s pipe)
/// are closed at once: GitProc keeps no file descriptor store, and closing a barrier's pipe is exactly what releases
/// <c>systemd-notify</c>, which waits for it after sending so that its PID still exists while it is checked.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class NotifySocket : IEpollTarget, IDisposable
{
    // sd_notify's messages are small; systemd reads at most a pipe buffer's worth (4096) and drops longer ones.
    private const int MaxMessage = 4096;

    // Room for one ucred and up to 64 descriptors (CMSG_SPACE(12) + CMSG_SPACE(256)).
    private const int ControlSize = 24 + 16 + 16 + 256;

    private readonly SafeFileHandle _fd;
    private readonly ProcessEventLoop _loop;
    private readonly Action<int, uint, string> _receive;
    private readonly ILogger _logger;
    private readonly string _service;
    private readonly long _id;
    private int _disposed;

    private NotifySocket(string path, SafeFileHandle fd, ProcessEventLoop loop, string service, Action<int, uint, string> receive, ILogger logger)
    {
        Path = path;
        _fd = fd;
        _loop = loop;
        _service = service;
        _receive = receive;
        _logger = logger;
        _id = loop.NewId();
        loop.Register(fd, _id, Interop.Processes.EPOLLIN, this);
    }

    /// <summary>The socket's path: the service's <c>NOTIFY_SOCKET</c>.</summary>
    public string Path { get; }

    /// <summary>
    /// Binds a socket at <paramref name="path"/> (replacing a stale file there), writable by every user so that a
    /// service running as its own <c>User=</c> can send to it: who may notify is decided per datagram by the sender's
    /// credentials, not by the file's mode (systemd's own socket is world-writable for the same reason).
    /// </summary>
    /// <exception cref="IOException">The socket could not be made; the message names the path and the reason.</exception>
    public static NotifySocket Bind(string path, ProcessEventLoop loop, string service, Action<int, uint, string> receive, ILogger logger)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= Interop.Readiness.SunPathSize)
        {
            throw new IOException($"The notification socket path {path} is longer than a Unix socket allows ({Interop.Readiness.SunPathSize - 1} bytes).");
        }

        var raw = Interop.Readiness.Socket(
            Interop.Readiness.AF_UNIX, Interop.Readiness.SOCK_DGRAM | Interop.Readiness.SOCK_NONBLOCK | Interop.Readiness.SOCK_CLOEXEC, 0);
        if (raw < 0)
        {
            throw Failed(path, "socket");
        }

        var fd = Interop.Processes.ToHandle(raw);
        try
        {
            var one = 1;
            if (Interop.Readiness.SetSockOpt(fd, Interop.Readiness.SOL_SOCKET, Interop.Readiness.SO_PASSCRED, &one, sizeof(int)) != 0)
            {
                throw Failed(path, "setsockopt(SO_PASSCRED)");
            }

            File.Delete(path);
            var address = stackalloc byte[2 + Interop.Readiness.SunPathSize];
            new Span<byte>(address, 2 + Interop.Readiness.SunPathSize).Clear();
            *(ushort*)address = Interop.Readiness.AF_UNIX;
            bytes.CopyTo(new Span<byte>(address + 2, bytes.Length));
            if (Interop.Readiness.Bind(fd, address, (uint)(2 + bytes.Length + 1)) != 0)
            {
                throw Failed(path, "bind");
            }

            _ = Interop.Readiness.Chmod(path, 0x1b6 /* 0666 */);
            return new NotifySocket(path, fd, loop, service, receive, logger);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public void OnReady(uint events)
    {
        var buffer = stackalloc byte[MaxMessage + 1];
        var control = stackalloc byte[ControlSize];
        var iov = stackalloc byte[16];
        var header = stackalloc byte[Interop.Readiness.MsgHdrSize];
        while (Volatile.Read(ref _disposed) == 0)
        {
            *(byte**)iov = buffer;
            *(nint*)(iov + 8) = MaxMessage + 1;
            new Span<byte>(header, Interop.Readiness.MsgHdrSize).Clear();
            new Span<byte>(control, ControlSize).Clear();
            *(byte**)(header + 16) = iov;       // msg_iov
            *(nint*)(header + 24) = 1;          // msg_iovlen
            *(byte**)(header + 32) = control;   // msg_control
            *(nint*)(header + 40) = ControlSize; // msg_controllen
            var length = Interop.Readiness.RecvMsg(
                _fd, header, Interop.Readiness.MSG_DONTWAIT | Interop.Readiness.MSG_CMSG_CLOEXEC | Interop.Readiness.MSG_TRUNC);
            if (length < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Processes.EINTR)
                {
                    continue;
                }

                if (errno != Interop.Processes.EAGAIN)
                {
                    Log.ReceiveFailed(_logger, _service, Marshal.GetPInvokeErrorMessage(errno));
                }

                return;
            }

            var controlLength = *(nint*)(header + 40);
            var (pid, uid) = ReadControl(control, controlLength, closeDescriptors: false);
            var flags = *(int*)(header + 48);
            if (length > MaxMessage || (flags & Interop.Readiness.MSG_TRUNC) != 0)
            {
                Log.ReceiveFailed(_logger, _service, $"a notification of {length} bytes from PID {pid} is longer than {MaxMessage} and was dropped");
            }
            else if (pid > 0)
            {
                // (SO_PASSCRED makes the kernel attach credentials to every datagram; without them the sender is unknown.)
                _receive(pid, uid, Encoding.UTF8.GetString(buffer, (int)length));
            }

            // Only now: closing a barrier's pipe lets its sender exit, and it must still exist while it is checked.
            _ = ReadControl(control, controlLength, closeDescriptors: true);
        }
    }

    /// <summary>The sender's credentials; with <paramref name="closeDescriptors"/>, every passed descriptor is closed.</summary>
    private static (int Pid, uint Uid) ReadControl(byte* control, nint length, bool closeDescriptors)
    {
        int pid = 0;
        uint uid = 0;
        var offset = 0;
        while (offset + Interop.Readiness.CmsgHdrSize <= length)
        {
            var cmsg = control + offset;
            var size = *(nint*)cmsg;
            if (size < Interop.Readiness.CmsgHdrSize || offset + size > length)
            {
                break;
            }

            var level = *(int*)(cmsg + 8);
            var type = *(int*)(cmsg + 12);
            var data = cmsg + Interop.Readiness.CmsgHdrSize;
            var dataLength = (int)size - Interop.Readiness.CmsgHdrSize;
            if (level == Interop.Readiness.SOL_SOCKET && type == Interop.Readiness.SCM_CREDENTIALS && dataLength >= 12)
            {
                pid = *(int*)data;
                uid = *(uint*)(data + 4);
            }
            else if (closeDescriptors && level == Interop.Readiness.SOL_SOCKET && type == Interop.Readiness.SCM_RIGHTS)
            {
                for (var i = 0; i + 4 <= dataLength; i += 4)
                {
                    _ = Interop.Processes.Close(*(int*)(data + i));
                }
            }

            // CMSG_ALIGN: the next header starts at a multiple of 8.
            offset += (int)((size + 7) & ~7);
        }

        return (pid, uid);
    }

    public void Abandon() => Close();

    /// <summary>Stops receiving, closes the socket and removes its file.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _loop.Unregister(_fd, _id);
        Close();
        try
        {
            File.Delete(Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.SweepFailed(_logger, Path, ex.Message);
        }
    }

    private void Close() => _fd.Dispose();

    private static IOException Failed(string path, string call) =>
        new($"Cannot create the notification socket {path}: {call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
}
