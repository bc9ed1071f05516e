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

    /// <summary>The variable naming the descriptors a re-executed program inherits: <c>name=fd,name=fd</c>.</summary>
    internal const string InheritedVariable = "GITPROC_INHERITED_FDS";

    private static readonly Lock InheritedLock = new();
    private static Dictionary<string, int>? _inherited;

    /// <summary>The command line this process was started with (<c>/proc/self/cmdline</c>), argv[0] included.</summary>
    /// <returns>The arguments.</returns>
    public static IReadOnlyList<string> CurrentArguments()
    {
        var text = File.ReadAllText("/proc/self/cmdline");
        return text.TrimEnd('\0').Split('\0');
    }

    /// <summary>
    /// Takes the descriptor the previous image of this process handed over under <paramref name="name"/> (see
    /// <see cref="Execute"/>): once, and only in the process that was re-executed (the variable naming them is read
    /// and removed from the environment on first use, so nothing started later inherits it).
    /// </summary>
    /// <param name="name">The name it was handed over under.</param>
    /// <param name="fd">The descriptor, now this image's to own.</param>
    /// <returns>Whether one was handed over under that name.</returns>
    internal static bool TryTakeInherited(string name, out int fd)
    {
        lock (InheritedLock)
        {
            if (_inherited is null)
            {
                _inherited = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var pair in (Environment.GetEnvironmentVariable(InheritedVariable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals > 0 && int.TryParse(pair.AsSpan(equals + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                    {
                        _inherited[pair[..equals]] = number;
                    }
                }

                Environment.SetEnvironmentVariable(InheritedVariable, null);
            }

            return _inherited.Remove(name, out fd);
        }
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
    /// <param name="handOver">
    /// Descriptors the new image takes over, by name: kept open across the exec and named in its environment, where
    /// GitProc's components find them (<c>listener</c>: the IPC socket; <c>state-lock</c>, <c>cgroup-lock</c>).
    /// </param>
    /// <exception cref="GitProcException">execve failed; the message says why. This program keeps running.</exception>
    public static unsafe void Execute(
        string executable,
        IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string> environment,
        IReadOnlyDictionary<string, SafeHandle>? handOver = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(executable);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        var variables = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        variables.Remove(InheritedVariable);
        if (handOver is { Count: > 0 })
        {
            variables[InheritedVariable] = string.Join(
                ',', handOver.Select(pair => string.Create(CultureInfo.InvariantCulture, $"{pair.Key}={KeepAcrossExec(pair.Value)}")));
        }

        var block = NativeBlock.Build(executable, [.. arguments], variables, out var path, out var argv, out var envp);
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
