using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Processes;

/// <summary>
/// Descriptors the daemon keeps for itself, so that running out of them while starting services never starves the
/// rest of the process. Without it, service starts retrying at the open-file limit take every descriptor as soon as
/// one is freed, and the .NET runtime, which needs one now and then (the GC reads <c>/proc/self/status</c>), aborts
/// the whole daemon with "Out of memory."; IPC clients and state saves would fail too.
/// <para>
/// The daemon holds the reserve (placeholder descriptors on <c>/dev/null</c>) from start. The first time a start
/// meets EMFILE or ENFILE, the reserve is released, handing its descriptors to everything else, and no start is even
/// attempted (<see cref="EnsureHeld"/> fails) until the reserve can be taken again: then there are descriptors to
/// spare once more. Without <see cref="Hold"/> (an application embedding the supervisor) it does nothing.
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

    /// <summary>Takes the reserve back if it was released; <see langword="false"/> while the descriptors are not there.</summary>
    public static bool EnsureHeld()
    {
        lock (Sync)
        {
            return Held.Count == _size || TakeUnderLock();
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
        var margin = Math.Max(4, _size / 4);
        while (Held.Count < _size + margin)
        {
            var fd = Interop.Locking.Open("/dev/null", Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0);
            if (fd < 0)
            {
                // All or nothing: a partial reserve would only hold back what others need now.
                ReleaseUnderLock();
                return false;
            }

            Held.Add(new SafeFileHandle(fd, ownsHandle: true));
        }

        for (var i = Held.Count - 1; i >= _size; i--)
        {
            Held[i].Dispose();
            Held.RemoveAt(i);
        }

        return true;
    }

    private static void ReleaseUnderLock()
    {
        foreach (var handle in Held)
        {
            handle.Dispose();
        }

        Held.Clear();
    }
}
