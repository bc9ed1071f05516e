using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace GitProc;

/// <summary>Native calls with no managed equivalent, one nested class per area.</summary>
internal static partial class Interop
{
    /// <summary>
    /// What the state file needs beyond <see cref="FileStream.Flush(bool)"/>: .NET cannot open a directory, and a
    /// rename is only durable once the directory holding it is synced.
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static partial class State
    {
        /// <summary>
        /// O_RDONLY | O_CLOEXEC. O_CLOEXEC is 02000000 on x86-64 and arm64 alike; O_DIRECTORY is left out because
        /// its value differs between the two, and opening a directory read-only works without it.
        /// </summary>
        private const int OpenReadOnlyCloseOnExec = 0x80000;

        /// <summary>Opens a directory and fsyncs it, so a rename inside it survives a power loss.</summary>
        /// <param name="directory">The directory.</param>
        /// <returns>0 on success, else the errno of the failing call.</returns>
        internal static int SyncDirectory(string directory)
        {
            var fd = Open(directory, OpenReadOnlyCloseOnExec, 0);
            if (fd < 0)
            {
                return Marshal.GetLastPInvokeError();
            }

            using var handle = new SafeFileHandle(fd, ownsHandle: true);
            return FSync(handle) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }

        /// <summary>open(2); the mode is passed but unused without O_CREAT.</summary>
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int Open(string path, int flags, int mode);

        /// <summary>fsync(2): 0 on success, -1 with errno set.</summary>
        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        private static partial int FSync(SafeFileHandle fd);
    }
}
