using System.Collections;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Processes;

/// <summary>
/// A supervisor as PID 1 (a container's main process, or <c>unshare --pid --fork</c>): a minimal init, as tini or
/// dumb-init are. Called first thing by a program that finds itself PID 1 (as <c>gitproc daemon</c> does), it starts the
/// same program with the same arguments as its child, the daemon, then
/// <list type="bullet">
/// <item>reaps every process that ends under it: the kernel re-parents each orphan (a service's double-forked helper, a
/// process left behind by <c>docker exec</c>) to PID 1, and an orphan nobody reaps stays a zombie holding its pid;</item>
/// <item>passes SIGTERM, SIGINT, SIGHUP and SIGQUIT on to the daemon, so <c>docker stop</c> stops every service in
/// reverse dependency order and SIGHUP upgrades the daemon in place, as outside a container;</item>
/// <item>exits with the daemon's exit code (128 + N when a signal N ended it), after which the kernel kills whatever is
/// left in the container.</item>
/// </list>
/// </summary>
/// <remarks>
/// Why two processes: the .NET runtime, as PID 1, reaps every child itself (<c>waitpid(-1)</c> on each SIGCHLD) as soon
/// as it has a SIGCHLD handler, which a console on a terminal (<c>docker run -t</c>) or any use of
/// <see cref="System.Diagnostics.Process"/> installs; it would take the services' exit statuses from the daemon, which
/// learns them by reaping each service through its pidfd (seen: services exiting 7 shown as exit code 128, status
/// unknown). Here the daemon is never PID 1, and the init touches neither the console nor <c>Process</c>: its one reaper
/// is the blocking <c>waitid</c> loop below, and the daemon's own exit status comes from that same loop.
/// </remarks>
[SupportedOSPlatform("linux")]
public static unsafe class ContainerInit
{
    private const int PAll = 0;
    private static readonly PosixSignal[] Forwarded = [PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP, PosixSignal.SIGQUIT];
    private static readonly Lock SignalLock = new();
    private static int _daemon;
    private static int _pending;

    /// <summary>
    /// Runs the init until the daemon (this program, started again as its child) has exited. Call it before anything
    /// else, and only as PID 1: the init must not touch the console.
    /// </summary>
    /// <returns>The exit code to exit with: the daemon's, 128 + N when signal N ended it, 1 when it could not start.</returns>
    public static int Run()
    {
        var registrations = Forwarded.Select(signal => PosixSignalRegistration.Create(signal, Forward)).ToList();
        try
        {
            var daemon = Spawn();
            if (daemon < 0)
            {
                return 1;
            }

            lock (SignalLock)
            {
                _daemon = daemon;
                if (_pending != 0)
                {
                    _ = Interop.Processes.Kill(daemon, _pending);
                }
            }

            return ReapUntilExited(daemon);
        }
        finally
        {
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    /// <summary>Passes the signal on to the daemon (or keeps it until the daemon runs); PID 1 itself goes on.</summary>
    private static void Forward(PosixSignalContext context)
    {
        context.Cancel = true;
        var number = context.Signal switch
        {
            PosixSignal.SIGTERM => 15,
            PosixSignal.SIGINT => 2,
            PosixSignal.SIGHUP => 1,
            PosixSignal.SIGQUIT => 3,
            _ => 0,
        };
        lock (SignalLock)
        {
            if (_daemon > 0)
            {
                _ = Interop.Processes.Kill(_daemon, number);
            }
            else
            {
                _pending = number;
            }
        }
    }

    /// <summary>Reaps whatever ends under PID 1 until the daemon does; returns its exit code.</summary>
    private static int ReapUntilExited(int daemon)
    {
        var info = stackalloc byte[Interop.Processes.SigInfoSize];
        while (true)
        {
            new Span<byte>(info, Interop.Processes.SigInfoSize).Clear();
            if (Interop.Processes.WaitIdPid(PAll, 0, info, Interop.Processes.WEXITED) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Processes.EINTR)
                {
                    continue;
                }

                // ECHILD: no child is left, so the daemon was reaped without us; nothing more can be learnt.
                WriteError($"gitproc (PID 1): waiting for the daemon failed: {Marshal.GetPInvokeErrorMessage(errno)}");
                return 1;
            }

            // siginfo_t: si_code at offset 8; the union at 16: si_pid, si_uid, si_status.
            if (*(int*)(info + 16) == daemon)
            {
                var status = *(int*)(info + 24);
                return *(int*)(info + 8) == Interop.Processes.CLD_EXITED ? status : 128 + status;
            }
        }
    }

    /// <summary>Starts the daemon: this very program and command line, every signal at its default, nothing blocked.</summary>
    private static int Spawn()
    {
        var arguments = SelfExec.CurrentArguments().ToList();
        var program = Environment.ProcessPath ?? arguments[0];
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            environment[(string)variable.Key] = (string?)variable.Value ?? "";
        }

        var attributes = NativeMemory.AllocZeroed(Interop.Processes.SpawnAttrSize);
        byte* block = null;
        try
        {
            SpawnAttributes.Initialize(attributes, newSession: false);
            block = NativeBlock.Build(program, arguments, environment, out var path, out var argv, out var envp);
            var error = Interop.Processes.PosixSpawn(out var pid, path, null, attributes, argv, envp);
            if (error != 0)
            {
                WriteError($"gitproc (PID 1): cannot start the daemon ({program}): {Marshal.GetPInvokeErrorMessage(error)}");
                return -1;
            }

            return pid;
        }
        finally
        {
            _ = Interop.Processes.PosixSpawnAttrDestroy(attributes);
            NativeMemory.Free(attributes);
            NativeMemory.Free(block);
        }
    }

    /// <summary>One line on stderr, written directly: the console would install the SIGCHLD handler this init avoids.</summary>
    private static void WriteError(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message + "\n");
        using var stderr = new SafeFileHandle(2, ownsHandle: false);
        fixed (byte* data = bytes)
        {
            _ = Interop.Processes.Write(stderr, data, bytes.Length);
        }
    }
}
