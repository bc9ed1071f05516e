using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace GitProc;

/// <summary>Native calls with no managed equivalent, one nested class per area.</summary>
internal static partial class Interop
{
    /// <summary>
    /// What an exclusive lock needs that .NET does not offer: <c>flock</c> on a descriptor we own (.NET's own locking
    /// is tied to <see cref="FileShare"/> and cannot lock a directory), the descriptor flags (for keeping a lock across
    /// execve), and the file's device and inode, which identify its lock in <c>/proc/locks</c>.
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static unsafe partial class Locking
    {
        // Open flags, fcntl commands and errno values: the same on x86-64 and arm64 (asm-generic). O_RDONLY, O_CLOEXEC
        // and EINTR are Interop.Processes'; EWOULDBLOCK is EAGAIN.
        internal const int O_RDWR = 2;
        internal const int O_CREAT = 0x40;
        internal const int LOCK_EX = 2;
        internal const int LOCK_NB = 4;
        internal const int F_GETFD = 1;
        internal const int F_SETFD = 2;
        internal const int FD_CLOEXEC = 1;
        internal const int EINVAL = 22;
        internal const int ENOLCK = 37;
        internal const int EOPNOTSUPP = 95;

        internal const int AT_EMPTY_PATH = 0x1000;
        internal const uint STATX_INO = 0x100;

        /// <summary>
        /// <c>struct statx</c> is the same on every architecture: <c>stx_ino</c> at byte 32, <c>stx_dev_major</c> and
        /// <c>stx_dev_minor</c> at 136 and 140, 256 bytes in all.
        /// </summary>
        internal const int StatxSize = 256;
        internal const int StatxInoOffset = 32;
        internal const int StatxDevMajorOffset = 136;
        internal const int StatxDevMinorOffset = 140;

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Open(string path, int flags, int mode);

        [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
        internal static partial int Flock(SafeFileHandle fd, int operation);

        /// <summary>fcntl(2) with an int argument (passed like a fixed one on x86-64 and arm64).</summary>
        [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int Fcntl(SafeFileHandle fd, int command, int argument);

        [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
        internal static partial int FTruncate(SafeFileHandle fd, long length);

        [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
        internal static partial nint PWrite(SafeFileHandle fd, byte* buffer, nint count, long offset);

        /// <summary>statx(2) (glibc ≥ 2.28); with <see cref="AT_EMPTY_PATH"/> and an empty path it describes the descriptor itself.</summary>
        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Statx(SafeFileHandle dirFd, string path, int flags, uint mask, byte* buffer);
    }
}
