using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace GitProc;

internal static partial class Interop
{
    /// <summary>
    /// What the process manager needs that no file under <c>/proc</c> offers: spawning (glibc's
    /// <c>posix_spawn</c>), pidfds, epoll, pipes, signals and the user database. Layouts are those of glibc on
    /// 64-bit Linux (checked on x86-64 with <c>sizeof</c>: <c>posix_spawnattr_t</c> 336 bytes,
    /// <c>posix_spawn_file_actions_t</c> 80, <c>sigset_t</c> 128, <c>siginfo_t</c> 128); the opaque structures
    /// are allocated with room to spare so a larger layout elsewhere cannot overrun them.
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static unsafe partial class Processes
    {
        /// <summary>Bytes reserved for a <c>posix_spawnattr_t</c> (336 on x86-64 glibc).</summary>
        internal const int SpawnAttrSize = 512;

        /// <summary>Bytes reserved for a <c>posix_spawn_file_actions_t</c> (80 on x86-64 glibc).</summary>
        internal const int FileActionsSize = 128;

        /// <summary>Bytes reserved for a <c>sigset_t</c> (128).</summary>
        internal const int SigSetSize = 128;

        /// <summary>Bytes of a <c>siginfo_t</c> (128 on every Linux architecture).</summary>
        internal const int SigInfoSize = 128;

        internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
        internal const short POSIX_SPAWN_SETSIGMASK = 0x08;

        /// <summary>glibc ≥ 2.26: the child calls <c>setsid()</c>: its own session and process group.</summary>
        internal const short POSIX_SPAWN_SETSID = 0x80;

        internal const int O_RDONLY = 0;
        internal const int O_WRONLY = 1;
        internal const int O_RDWR = 2;
        internal const int O_NONBLOCK = 0x800;
        internal const int O_CLOEXEC = 0x80000;
        internal const int X_OK = 1;
        internal const int F_GETFL = 3;
        internal const int F_SETFL = 4;

        internal const int EINTR = 4;
        internal const int ENOMEM = 12;
        internal const int ENFILE = 23;
        internal const int EMFILE = 24;
        internal const int EAGAIN = 11;
        internal const int ESRCH = 3;
        internal const int ENOENT = 2;
        internal const int EACCES = 13;
        internal const int ECHILD = 10;
        internal const int ERANGE = 34;

        internal const int SIGKILL = 9;
        internal const int SIGTERM = 15;
        internal const int SIGCONT = 18;
        internal const int SIGSTOP = 19;

        internal const int P_PIDFD = 3;
        internal const int WNOHANG = 1;
        internal const int WEXITED = 4;
        internal const int CLD_EXITED = 1;
        internal const int CLD_KILLED = 2;
        internal const int CLD_DUMPED = 3;

        internal const int EPOLL_CLOEXEC = O_CLOEXEC;
        internal const int EPOLL_CTL_ADD = 1;
        internal const int EPOLL_CTL_DEL = 2;
        internal const int EPOLL_CTL_MOD = 3;
        internal const uint EPOLLIN = 0x001;
        internal const uint EPOLLHUP = 0x010;
        internal const uint EPOLLONESHOT = 1u << 30;

        internal const int EFD_NONBLOCK = O_NONBLOCK;
        internal const int EFD_CLOEXEC = O_CLOEXEC;

        /// <summary>
        /// <c>struct epoll_event</c> is packed (12 bytes) on x86-64 only; elsewhere the 64-bit data is aligned
        /// (16 bytes). Events are read and written through these offsets rather than a C# struct.
        /// </summary>
        internal static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

        /// <summary>Offset of <c>epoll_event.data</c>.</summary>
        internal static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

        /// <summary>glibc's <c>struct passwd</c>.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Passwd
        {
            public byte* Name;
            public byte* Password;
            public uint Uid;
            public uint Gid;
            public byte* Gecos;
            public byte* Dir;
            public byte* Shell;
        }

        /// <summary>glibc's <c>struct group</c>.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Group
        {
            public byte* Name;
            public byte* Password;
            public uint Gid;
            public byte** Members;
        }

        [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
        internal static partial int PosixSpawnAttrInit(void* attr);

        [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
        internal static partial int PosixSpawnAttrDestroy(void* attr);

        [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
        internal static partial int PosixSpawnAttrSetFlags(void* attr, short flags);

        [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
        internal static partial int PosixSpawnAttrSetSigDefault(void* attr, void* sigset);

        [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
        internal static partial int PosixSpawnAttrSetSigMask(void* attr, void* sigset);

        [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
        internal static partial int PosixSpawnFileActionsInit(void* actions);

        [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
        internal static partial int PosixSpawnFileActionsDestroy(void* actions);

        /// <summary>glibc copies <paramref name="path"/>, so the marshalled string may be freed after the call.</summary>
        [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int PosixSpawnFileActionsAddOpen(void* actions, int fd, string path, int flags, uint mode);

        [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
        internal static partial int PosixSpawnFileActionsAddDup2(void* actions, int fd, int newFd);

        /// <summary>glibc ≥ 2.29; copies <paramref name="path"/>.</summary>
        [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int PosixSpawnFileActionsAddChdir(void* actions, string path);

        /// <summary>
        /// Returns 0 or an error number (not errno). glibc spawns with <c>CLONE_VFORK</c>, so by the time it returns
        /// the child has executed the program, and a failed exec (ENOENT, EACCES, ENOEXEC) is this call's result.
        /// </summary>
        [LibraryImport("libc", EntryPoint = "posix_spawn")]
        internal static partial int PosixSpawn(out int pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

        [LibraryImport("libc", EntryPoint = "sigfillset")]
        internal static partial int SigFillSet(void* set);

        [LibraryImport("libc", EntryPoint = "sigemptyset")]
        internal static partial int SigEmptySet(void* set);

        [LibraryImport("libc", EntryPoint = "sigdelset")]
        internal static partial int SigDelSet(void* set, int signal);

        [LibraryImport("libc", EntryPoint = "close")]
        internal static partial int Close(int fd);

        [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
        internal static partial int Pipe2(int* fds, int flags);

        /// <summary>fcntl(2) with an int argument (the variadic argument is passed like a fixed one on x86-64 and arm64).</summary>
        [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int Fcntl(SafeFileHandle fd, int command, int argument);

        /// <summary>fcntl(2) on a bare descriptor number (one this process owns through a handle elsewhere).</summary>
        [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int FcntlFd(int fd, int command, int argument);

        /// <summary>execve(2): returns only on failure, with errno set.</summary>
        [LibraryImport("libc", EntryPoint = "execve", SetLastError = true)]
        internal static partial int ExecVe(byte* path, byte** argv, byte** envp);

        [LibraryImport("libc", EntryPoint = "pthread_sigmask")]
        internal static partial int PthreadSigMask(int how, void* set, void* oldSet);

        [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
        internal static partial nint Read(SafeFileHandle fd, byte* buffer, nint count);

        [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
        internal static partial nint Write(SafeFileHandle fd, byte* buffer, nint count);

        /// <summary>pidfd_open(2) (glibc ≥ 2.36 wrapper, kernel ≥ 5.3).</summary>
        [LibraryImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
        internal static partial int PidfdOpen(int pid, uint flags);

        /// <summary>pidfd_send_signal(2) (glibc ≥ 2.36); signal 0 tells whether the process exists, a zombie included.</summary>
        [LibraryImport("libc", EntryPoint = "pidfd_send_signal", SetLastError = true)]
        internal static partial int PidfdSendSignal(SafeFileHandle pidfd, int signal, void* info, uint flags);

        /// <summary>open(2); the mode is used only with O_CREAT.</summary>
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Open(string path, int flags, int mode);

        [LibraryImport("libc", EntryPoint = "waitid", SetLastError = true)]
        internal static partial int WaitId(int idType, SafeFileHandle id, byte* info, int options);

        /// <summary>waitid(2) by pid (<c>P_PID</c> = 1).</summary>
        [LibraryImport("libc", EntryPoint = "waitid", SetLastError = true)]
        internal static partial int WaitIdPid(int idType, int pid, byte* info, int options);

        [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
        internal static partial int EpollCreate1(int flags);

        [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
        internal static partial int EpollCtl(SafeFileHandle epoll, int operation, SafeFileHandle fd, byte* epollEvent);

        [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
        internal static partial int EpollWait(SafeFileHandle epoll, byte* events, int maxEvents, int timeout);

        [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
        internal static partial int EventFd(uint initialValue, int flags);

        [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        internal static partial int Kill(int pid, int signal);

        [LibraryImport("libc", EntryPoint = "geteuid")]
        internal static partial uint GetEUid();

        [LibraryImport("libc", EntryPoint = "getegid")]
        internal static partial uint GetEGid();

        [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Access(string path, int mode);

        /// <summary>Returns 0 or an error number; <paramref name="result"/> is null when the user does not exist.</summary>
        [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int GetPwNamR(string name, Passwd* entry, byte* buffer, nuint bufferLength, Passwd** result);

        [LibraryImport("libc", EntryPoint = "getpwuid_r")]
        internal static partial int GetPwUidR(uint uid, Passwd* entry, byte* buffer, nuint bufferLength, Passwd** result);

        [LibraryImport("libc", EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int GetGrNamR(string name, Group* entry, byte* buffer, nuint bufferLength, Group** result);

        [LibraryImport("libc", EntryPoint = "getgrgid_r")]
        internal static partial int GetGrGidR(uint gid, Group* entry, byte* buffer, nuint bufferLength, Group** result);

        /// <summary><c>RLIMIT_NOFILE</c> (7 on x86-64 and arm64 alike).</summary>
        internal const int RLIMIT_NOFILE = 7;

        /// <summary><c>struct rlimit</c>: two <c>rlim_t</c> (64-bit on 64-bit Linux).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct RLimit
        {
            public ulong Current;
            public ulong Maximum;
        }

        [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
        internal static partial int GetRLimit(int resource, out RLimit limit);

        [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
        internal static partial int SetRLimit(int resource, in RLimit limit);

        /// <summary>Wraps a file descriptor returned by a call above (or -1) in a handle that closes it.</summary>
        internal static SafeFileHandle ToHandle(int fd) => new((nint)fd, ownsHandle: true);
    }
}
