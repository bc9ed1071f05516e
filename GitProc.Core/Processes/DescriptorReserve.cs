using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Processes;

/// <summary>
/// Descriptors the daemon keeps for itself, so that running out of them while starting services never starves the
/// rest of the process. The .NET runtime needs one now and then: creating a thread takes one (a thread pool worker
/// that cannot start aborts the whole daemon with "Out of memory."), and the GC reads <c>/proc/self/status</c>; IPC
/// clients and state saves need them too.
/// <para>
/// The daemon holds the reserve (placeholder descriptors on <c>/dev/null</c>) from start, and a start goes ahead only
/// while, beyond the reserve, what it opens and a headroom are free (<see cref="HasRoomFor"/>): starts alone never take
/// the process to its limit. If something else does and a start meets EMFILE or ENFILE, the reserve is released,
/// handing its descriptors to everything else, and no start is attempted until the reserve can be taken again. Without
/// <see cref="Hold"/> (an application embedding the supervisor) it does nothing.
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
internal static class DescriptorReserve
{
    private static readonly Lock Sync = new();
    private static readonly List<SafeFileHandle> Held = [];
    private static int _size;

    /// <summary>How many descriptors are kept back; 0 when no reserve is in use.</summary>
    public static int Size
    {
        get
        {
            lock (Sync)
            {
                return _size;
            }
        }
    }

    /// <summary>Whether the reserve is released (a shortage was met and has not passed yet).</summary>
    public static bool IsReleased
    {
        get
        {
            lock (Sync)
            {
                return Held.Count < _size;
            }
        }
    }

    /// <summary>Starts keeping <paramref name="size"/> descriptors back (the daemon, at start).</summary>
    /// <returns>Whether the reserve could be taken now.</returns>
    public static bool Hold(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        lock (Sync)
        {
            _size = size;
            ReleaseUnderLock();
            return TakeUnderLock();
        }
    }

    /// <summary>
    /// Descriptors a start must leave free beyond the reserve and what it opens itself: room for a few thread pool
    /// workers, an IPC client and a state save while starts run at the limit.
    /// </summary>
    public const int Headroom = 16;

    /// <summary>
    /// Whether a start that opens up to <paramref name="count"/> descriptors may go ahead: the reserve is held (taken
    /// back if it was released) and <paramref name="count"/> plus <see cref="Headroom"/> more can be opened now. Always
    /// <see langword="true"/> without a reserve. Callers serialize their starts, so that two starts cannot both count
    /// the same free descriptors.
    /// </summary>
    public static bool HasRoomFor(int count)
    {
        lock (Sync)
        {
            return _size == 0 || ((Held.Count == _size || TakeUnderLock()) && CanOpenUnderLock(count + Headroom));
        }
    }

    /// <summary>A shortage was met: hands the reserve's descriptors to the rest of the process.</summary>
    public static void Release()
    {
        lock (Sync)
        {
            ReleaseUnderLock();
        }
    }

    /// <summary>Releases the reserve if <paramref name="errno"/> says the process or the system is out of descriptors.</summary>
    public static void ReleaseOn(int errno)
    {
        if (errno is ResourceShortage.EMFILE or ResourceShortage.ENFILE)
        {
            Release();
        }
    }

    /// <summary>Stops keeping descriptors back (for tests).</summary>
    internal static void Stop()
    {
        lock (Sync)
        {
            ReleaseUnderLock();
            _size = 0;
        }
    }

    /// <summary>
    /// Takes the reserve, and only if a quarter more (at least 4) is free beyond it: taking back just the reserve would
    /// leave nothing for the start that asked, whose failure would release it again at once.
    /// </summary>
    private static bool TakeUnderLock()
    {
        if (!CanOpenUnderLock(_size + Math.Max(4, _size / 4)))
        {
            ReleaseUnderLock();
            return false;
        }

        while (Held.Count < _size)
        {
            var fd = OpenPlaceholder();
            if (fd < 0)
            {
                // All or nothing: a partial reserve would only hold back what others need now.
                ReleaseUnderLock();
                return false;
            }

            Held.Add(new SafeFileHandle(fd, ownsHandle: true));
        }

        return true;
    }

    /// <summary>Whether <paramref name="count"/> descriptors can be opened now (they are opened and closed again).</summary>
    private static bool CanOpenUnderLock(int count)
    {
        Span<int> probes = stackalloc int[count];
        var opened = 0;
        while (opened < count && (probes[opened] = OpenPlaceholder()) >= 0)
        {
            opened++;
        }

        foreach (var fd in probes[..opened])
        {
            _ = Interop.Processes.Close(fd);
        }

        return opened == count;
    }

    private static int OpenPlaceholder() =>
        Interop.Processes.Open("/dev/null", Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0);

    private static void ReleaseUnderLock()
    {
        foreach (var handle in Held)
        {
            handle.Dispose();
        }

        Held.Clear();
    }
}
