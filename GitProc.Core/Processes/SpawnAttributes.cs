using System.Runtime.Versioning;

namespace GitProc.Processes;

/// <summary>The <c>posix_spawn</c> attributes every process GitProc starts gets.</summary>
[SupportedOSPlatform("linux")]
internal static unsafe class SpawnAttributes
{
    /// <summary>
    /// Initializes <paramref name="attributes"/> (<see cref="Interop.Processes.SpawnAttrSize"/> zeroed bytes; destroy with
    /// <c>posix_spawnattr_destroy</c>): every signal back to its default (.NET ignores SIGPIPE and handles SIGCHLD,
    /// SIGINT, SIGTERM, …, and an ignored disposition would survive exec), an empty signal mask, and with
    /// <paramref name="newSession"/> a session and process group of its own.
    /// </summary>
    public static void Initialize(void* attributes, bool newSession)
    {
        var signals = stackalloc byte[Interop.Processes.SigSetSize];
        _ = Interop.Processes.PosixSpawnAttrInit(attributes);
        var flags = (short)(Interop.Processes.POSIX_SPAWN_SETSIGDEF | Interop.Processes.POSIX_SPAWN_SETSIGMASK);
        if (newSession)
        {
            flags |= Interop.Processes.POSIX_SPAWN_SETSID;
        }

        _ = Interop.Processes.PosixSpawnAttrSetFlags(attributes, flags);
        _ = Interop.Processes.SigFillSet(signals);
        _ = Interop.Processes.SigDelSet(signals, Interop.Processes.SIGKILL);
        _ = Interop.Processes.SigDelSet(signals, Interop.Processes.SIGSTOP);
        _ = Interop.Processes.PosixSpawnAttrSetSigDefault(attributes, signals);
        _ = Interop.Processes.SigEmptySet(signals);
        _ = Interop.Processes.PosixSpawnAttrSetSigMask(attributes, signals);
    }
}
