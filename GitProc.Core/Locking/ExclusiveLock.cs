using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Locking;

/// <summary>
/// An exclusive <c>flock</c> on a file or a directory, held as long as this object's descriptor is open: the kernel
/// drops it when the descriptor is closed or the process dies in any way (SIGKILL included), so a crashed daemon never
/// leaves a stale lock behind.
/// <para>
/// A <c>flock</c> belongs to an open file description, so a second <see cref="TryAcquireFile"/> of the same path is
/// refused even in the same process. The descriptor is opened with <c>O_CLOEXEC</c>: a service spawned by the daemon
/// must not inherit it, or the lock would outlive the daemon for as long as the service runs. A daemon that
/// re-executes itself keeps the lock by calling <see cref="KeepAcrossExec"/> just before <c>execve</c>, and the new
/// image takes it over with <see cref="FromInheritedDescriptor"/>.
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ExclusiveLock : IDisposable
{
    private const int FileMode = 0b110_100_100; // 0644: the holder's pid is for anyone to read.
    private const int Attempts = 3;

    private readonly SafeFileHandle _handle;

    private ExclusiveLock(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    /// <summary>The locked file or directory.</summary>
    public string Path { get; }

    /// <summary>The descriptor number, to pass to a re-executed daemon.</summary>
    public int Descriptor => checked((int)_handle.DangerousGetHandle());

    /// <summary>The descriptor holding the lock, to hand over across an in-place upgrade (<see cref="Processes.SelfExec"/>).</summary>
    public SafeFileHandle Handle => _handle;

    /// <summary>
    /// Locks <paramref name="path"/>, creating the file when missing, and writes this process's pid into it for people
    /// (the lock itself, not the content, decides who holds it). A file that exists but cannot be opened for writing
    /// (a read-only mount) is locked read-only, without the pid.
    /// </summary>
    /// <param name="path">The lock file.</param>
    /// <param name="holderPid">When the lock is held elsewhere: the holder, or <see langword="null"/> when unknown.</param>
    /// <returns>The lock, or <see langword="null"/> when another open file description holds it.</returns>
    /// <exception cref="IOException">The file cannot be created or opened; the message says why.</exception>
    /// <exception cref="NotSupportedException">The file system does not support <c>flock</c>.</exception>
    public static ExclusiveLock? TryAcquireFile(string path, out int? holderPid)
    {
        var fd = Interop.Locking.Open(path, Interop.Locking.O_RDWR | Interop.Locking.O_CREAT | Interop.Processes.O_CLOEXEC, FileMode);
        var writable = fd >= 0;
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            fd = File.Exists(path) ? Interop.Locking.Open(path, Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0) : -1;
            if (fd < 0)
            {
                throw OpenFailed(path, errno);
            }
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var acquired = TryLock(handle, path, out holderPid);
        if (acquired is null)
        {
            holderPid ??= ReadRecordedPid(path);
            return null;
        }

        if (writable)
        {
            WritePid(handle);
        }

        return acquired;
    }

    /// <summary>Locks an existing directory (a cgroup, say), which can hold no pid.</summary>
    /// <param name="path">The directory.</param>
    /// <param name="holderPid">When the lock is held elsewhere: the holder, or <see langword="null"/> when unknown.</param>
    /// <returns>The lock, or <see langword="null"/> when another open file description holds it.</returns>
    /// <exception cref="IOException">The directory cannot be opened; the message says why.</exception>
    /// <exception cref="NotSupportedException">The file system does not support <c>flock</c>.</exception>
    public static ExclusiveLock? TryAcquireDirectory(string path, out int? holderPid)
    {
        // O_DIRECTORY is left out (its value differs between x86-64 and arm64); a directory opens read-only without it.
        var fd = Interop.Locking.Open(path, Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw OpenFailed(path, Marshal.GetLastPInvokeError());
        }

        return TryLock(new SafeFileHandle(fd, ownsHandle: true), path, out holderPid);
    }

    /// <summary>
    /// Takes over a lock inherited across <c>execve</c> (see <see cref="KeepAcrossExec"/>): checks that the descriptor
    /// holds the lock and marks it close-on-exec again, so services spawned from now on do not inherit it.
    /// </summary>
    /// <param name="fd">The inherited descriptor.</param>
    /// <param name="path">What it locks (for messages).</param>
    /// <exception cref="IOException">The descriptor is not open, or does not hold the lock.</exception>
    internal static ExclusiveLock FromInheritedDescriptor(int fd, string path)
    {
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            // Locking again through the open file description that holds the lock succeeds (it is the same lock);
            // through any other it fails, so this proves the lock came along.
            if (Interop.Locking.Flock(handle, Interop.Locking.LOCK_EX | Interop.Locking.LOCK_NB) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException(
                    string.Create(CultureInfo.InvariantCulture, $"The inherited descriptor {fd} does not hold the lock on {path}: {Marshal.GetPInvokeErrorMessage(errno)}"),
                    errno);
            }

            SetCloseOnExec(handle, path, closeOnExec: true);
            return new ExclusiveLock(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Clears <c>FD_CLOEXEC</c>, so the descriptor, and with it the lock, survives <c>execve</c>. Call it right before
    /// the exec: a service spawned in between would inherit the lock too.
    /// </summary>
    /// <exception cref="IOException">fcntl failed.</exception>
    public void KeepAcrossExec() => SetCloseOnExec(_handle, Path, closeOnExec: false);

    /// <summary>Releases the lock. A lock file is left in place: removing it could race a daemon that just opened it.</summary>
    public void Dispose() => _handle.Dispose();

    /// <summary>
    /// The pid written into a lock file, read without taking .NET's own advisory lock (a <see cref="FileStream"/> would
    /// try a shared <c>flock</c> and fail while the exclusive one is held).
    /// </summary>
    internal static int? ReadRecordedPid(string path)
    {
        var fd = Interop.Locking.Open(path, Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return null;
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        Span<byte> buffer = stackalloc byte[32];
        int length;
        try
        {
            length = RandomAccess.Read(handle, buffer, 0);
        }
        catch (IOException)
        {
            return null;
        }

        return int.TryParse(Encoding.ASCII.GetString(buffer[..length]).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0
            ? pid
            : null;
    }

    private static ExclusiveLock? TryLock(SafeFileHandle handle, string path, out int? holderPid)
    {
        holderPid = null;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                if (Interop.Locking.Flock(handle, Interop.Locking.LOCK_EX | Interop.Locking.LOCK_NB) == 0)
                {
                    return new ExclusiveLock(handle, path);
                }

                var errno = Marshal.GetLastPInvokeError();
                switch (errno)
                {
                    case Interop.Processes.EINTR:
                        continue;
                    case Interop.Processes.EAGAIN: // EWOULDBLOCK
                        // The holder may let go between our attempt and the look-up; then the next attempt wins.
                        holderPid = FindHolder(handle);
                        if (holderPid is not null || attempt == Attempts)
                        {
                            handle.Dispose();
                            return null;
                        }

                        continue;
                    case Interop.Locking.ENOLCK or Interop.Locking.EINVAL or Interop.Locking.EOPNOTSUPP:
                        throw new NotSupportedException($"The file system of {path} does not support flock: {Marshal.GetPInvokeErrorMessage(errno)}");
                    default:
                        throw new IOException($"Cannot lock {path}: flock failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
                }
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static unsafe int? FindHolder(SafeFileHandle handle)
    {
        var statx = stackalloc byte[Interop.Locking.StatxSize];
        if (Interop.Locking.Statx(handle, string.Empty, Interop.Locking.AT_EMPTY_PATH, Interop.Locking.STATX_INO, statx) != 0)
        {
            return null;
        }

        return LockHolders.Find(
            *(uint*)(statx + Interop.Locking.StatxDevMajorOffset),
            *(uint*)(statx + Interop.Locking.StatxDevMinorOffset),
            *(ulong*)(statx + Interop.Locking.StatxInoOffset));
    }

    private static unsafe void WritePid(SafeFileHandle handle)
    {
        // Best effort: the content is for people; a failed write does not weaken the lock.
        var text = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}\n"));
        if (Interop.Locking.FTruncate(handle, 0) == 0)
        {
            fixed (byte* bytes = text)
            {
                _ = Interop.Locking.PWrite(handle, bytes, text.Length, 0);
            }
        }
    }

    private static void SetCloseOnExec(SafeFileHandle handle, string path, bool closeOnExec)
    {
        var flags = Interop.Locking.Fcntl(handle, Interop.Locking.F_GETFD, 0);
        if (flags >= 0)
        {
            flags = closeOnExec ? flags | Interop.Locking.FD_CLOEXEC : flags & ~Interop.Locking.FD_CLOEXEC;
            if (Interop.Locking.Fcntl(handle, Interop.Locking.F_SETFD, flags) == 0)
            {
                return;
            }
        }

        var errno = Marshal.GetLastPInvokeError();
        throw new IOException($"Cannot change the close-on-exec flag of the lock on {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    private static IOException OpenFailed(string path, int errno) =>
        new($"Cannot open {path} to lock it: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
}
