using System.Runtime.InteropServices;

namespace GitProc;

/// <summary>Native calls with no managed equivalent, one nested class per area.</summary>
internal static partial class Interop
{
    /// <summary>Calls the IPC server needs.</summary>
    internal static partial class Ipc
    {
        /// <summary>chown(2); <c>-1</c> keeps the owner or group.</summary>
        [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Chown(string path, int owner, int group);
    }
}
