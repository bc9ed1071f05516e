using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace GitProc.Processes;

/// <summary>
/// Replaces the running program with another (or a new version of itself) in the same process, as
/// <c>systemctl daemon-reexec</c> does: <c>execve(2)</c> keeps the pid, every child process (so their exits can
/// still be reaped), and the descriptors marked to survive; everything else of the old program is gone.
/// </summary>
[SupportedOSPlatform("linux")]
public static class SelfExec
{
    private const int FGetFd = 1;
    private const int FSetFd = 2;
    private const int FdCloexec = 1;
    private const int SigSetMask = 2;

    /// <summary>The command line this process was started with (<c>/proc/self/cmdline</c>), argv[0] included.</summary>
    /// <returns>The arguments.</returns>
    public static IReadOnlyList<string> CurrentArguments()
    {
        var text = File.ReadAllText("/proc/self/cmdline");
        return text.TrimEnd('\0').Split('\0');
    }

    /// <summary>Marks a descriptor to survive <see cref="Execute"/> (clears its close-on-exec flag).</summary>
    /// <param name="handle">The descriptor.</param>
    /// <returns>Its number, for the new program to find it.</returns>
    /// <exception cref="GitProcException">The flag could not be cleared.</exception>
    public static int KeepAcrossExec(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var fd = (int)handle.DangerousGetHandle();
        var flags = Interop.Processes.FcntlFd(fd, FGetFd, 0);
        if (flags < 0 || Interop.Processes.FcntlFd(fd, FSetFd, flags & ~FdCloexec) < 0)
        {
            throw new GitProcException(string.Create(
                CultureInfo.InvariantCulture, $"Cannot keep descriptor {fd} across re-execution: {Marshal.GetLastPInvokeErrorMessage()}"));
        }

        return fd;
    }

    /// <summary>
    /// Executes <paramref name="executable"/> in place of this program. Returns only by throwing: on success the
    /// calling program is gone. Signals blocked on the calling thread are unblocked first, so the new program does not
    /// start with a mask it never asked for.
    /// </summary>
    /// <param name="executable">The program's path.</param>
    /// <param name="arguments">Its argv, argv[0] included.</param>
    /// <param name="environment">Its whole environment.</param>
    /// <exception cref="GitProcException">execve failed; the message says why. This program keeps running.</exception>
    public static unsafe void Execute(string executable, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentException.ThrowIfNullOrEmpty(executable);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        var block = NativeBlock.Build(
            executable, [.. arguments], new Dictionary<string, string>(environment, StringComparer.Ordinal), out var path, out var argv, out var envp);
        try
        {
            var empty = stackalloc byte[Interop.Processes.SigSetSize];
            _ = Interop.Processes.SigEmptySet(empty);
            _ = Interop.Processes.PthreadSigMask(SigSetMask, empty, null);
            _ = Interop.Processes.ExecVe(path, argv, envp);
            throw new GitProcException($"Cannot execute {executable}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
        finally
        {
            NativeMemory.Free(block);
        }
    }
}
