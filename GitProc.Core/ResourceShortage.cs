using GitProc.Processes;

namespace GitProc;

/// <summary>
/// Recognises the daemon's own shortage of file descriptors or memory ("degrade, never die"): a failure
/// that says nothing about a service, so it must never count against the service (no exit code 203, no start-limit
/// count, never <c>failed</c>) and must never end the daemon. .NET reports a Unix I/O error it has no type for as an
/// <see cref="IOException"/> whose <see cref="Exception.HResult"/> is the errno.
/// </summary>
internal static class ResourceShortage
{
    internal const int EAGAIN = 11;
    internal const int ENOMEM = 12;
    internal const int ENFILE = 23;
    internal const int EMFILE = 24;

    /// <summary>Whether <paramref name="errno"/> means the daemon (or the system) ran short, not that the request was wrong.</summary>
    public static bool IsShortage(int errno) => errno is EMFILE or ENFILE or ENOMEM or EAGAIN;

    /// <summary>What ran short, for a message: "the daemon is out of file descriptors", ….</summary>
    public static string Describe(int errno) => errno switch
    {
        EMFILE => "the daemon is out of file descriptors (its open-file limit is reached)",
        ENFILE => "the system is out of file descriptors (its file table is full)",
        ENOMEM => "the daemon is out of memory",
        _ => "the daemon cannot create more processes or threads for now (EAGAIN: a process limit or a memory shortage)",
    };

    /// <summary>
    /// Whether <paramref name="exception"/> or one of its inner exceptions is such a shortage: a start the process
    /// manager marked <see cref="ProcessStartException.IsResourceShortage"/>, an I/O error with a shortage errno, or
    /// <see cref="OutOfMemoryException"/>. (Sockets are the health probe's business: naming their exception type here
    /// would make every caller load System.Net.Primitives, which a process out of descriptors cannot do.)
    /// </summary>
    public static bool Is(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case ProcessStartException { IsResourceShortage: true }:
                case OutOfMemoryException:
                    return true;
                case IOException io when IsShortage(io.HResult):
                    return true;
            }
        }

        return false;
    }
}
