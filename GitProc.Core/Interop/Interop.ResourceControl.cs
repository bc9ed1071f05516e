using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace GitProc;

/// <summary>Native calls, one nested class per area.</summary>
internal static partial class Interop
{
    /// <summary>What the cgroup code needs that no file under <c>/sys/fs/cgroup</c> offers: signalling a pid.</summary>
    [SupportedOSPlatform("linux")]
    internal static partial class ResourceControl
    {
        /// <summary>No such process.</summary>
        internal const int ESRCH = 3;

        /// <summary>kill(2): 0 on success, -1 with errno set.</summary>
        [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        internal static partial int Kill(int pid, int signal);
    }
}
