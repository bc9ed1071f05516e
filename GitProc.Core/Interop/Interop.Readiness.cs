using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace GitProc;

/// <summary>Native calls with no managed equivalent, one nested class per area.</summary>
internal static partial class Interop
{
    /// <summary>
    /// The notification socket of sd_notify(3): an <c>AF_UNIX</c> datagram socket with <c>SO_PASSCRED</c>, read with
    /// <c>recvmsg</c> because <see cref="System.Net.Sockets.Socket"/> hands out no <c>SCM_CREDENTIALS</c> or
    /// <c>SCM_RIGHTS</c>. Layouts are those of 64-bit Linux (<c>struct msghdr</c> 56 bytes, <c>struct cmsghdr</c> 16,
    /// <c>struct ucred</c> 12, <c>struct sockaddr_un</c> 110).
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static unsafe partial class Readiness
    {
        internal const int AF_UNIX = 1;
        internal const int SOCK_DGRAM = 2;
        internal const int SOCK_NONBLOCK = 0x800;
        internal const int SOCK_CLOEXEC = 0x80000;
        internal const int SOL_SOCKET = 1;
        internal const int SO_PASSCRED = 16;
        internal const int SO_RCVBUF = 8;
        internal const int SCM_RIGHTS = 1;
        internal const int SCM_CREDENTIALS = 2;
        internal const int MSG_DONTWAIT = 0x40;
        internal const int MSG_TRUNC = 0x20;
        internal const int MSG_CTRUNC = 0x08;
        internal const int MSG_CMSG_CLOEXEC = 0x40000000;

        /// <summary>Bytes of <c>sun_path</c>; a path must be shorter (it is NUL-terminated).</summary>
        internal const int SunPathSize = 108;

        internal const int MsgHdrSize = 56;
        internal const int CmsgHdrSize = 16;

        [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
        internal static partial int Socket(int domain, int type, int protocol);

        [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
        internal static partial int SetSockOpt(SafeFileHandle fd, int level, int name, int* value, uint length);

        [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
        internal static partial int Bind(SafeFileHandle fd, byte* address, uint length);

        [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
        internal static partial nint RecvMsg(SafeFileHandle fd, byte* message, int flags);

        [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Chmod(string path, uint mode);
    }
}
