using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using GitProc.UnitFiles;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Processes;

/// <summary>
/// A main process started by <see cref="ProcessManager"/>, the leader of its own session and process group. Its
/// exit is observed through its pidfd by the <see cref="ProcessEventLoop"/> and reaped there with
/// <c>waitid(P_PIDFD)</c>, which gives the exact exit code or signal.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ServiceProcess : IServiceProcess, IEpollTarget
{
    // Upper bound on waiting for processes to vanish after SIGKILL (only a process stuck in the kernel, state D,
    // outlives SIGKILL for long); the stop then completes and logs the survivors.
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan MaxRecheck = TimeSpan.FromMilliseconds(10);

    private readonly TaskCompletionSource<ProcessExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SafeFileHandle _pidfd;
    private readonly long _pidfdId;
    private readonly ProcessEventLoop _loop;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly IReadOnlyList<string> _cgroupProcsFiles;
    private readonly OutputPump? _output;
    private readonly int _defaultStopSignal;
    private readonly TimeSpan _defaultStopTimeout;
    private readonly Lock _lock = new();
    private readonly bool _isChild;
    private readonly KillMode _killMode;
    private Task<ProcessExit>? _stop;

    public ServiceProcess(
        ProcessInfo info,
        SafeFileHandle pidfd,
        ProcessEventLoop loop,
        ILogger logger,
        TimeProvider timeProvider,
        ProcessLaunch launch,
        OutputPump? output,
        bool isChild)
    {
        Info = info;
        _isChild = isChild;
        _killMode = launch.Unit.KillMode;
        _pidfd = pidfd;
        _loop = loop;
        _logger = logger;
        _timeProvider = timeProvider;
        _cgroupProcsFiles = launch.CgroupProcsFiles;
        _output = output;
        _defaultStopSignal = launch.Unit.KillSignal;
        _defaultStopTimeout = launch.Unit.TimeoutStop;
        _pidfdId = loop.NewId();
        loop.Register(pidfd, _pidfdId, Interop.Processes.EPOLLIN, this);
    }

    public ProcessInfo Info { get; }

    public Task<ProcessExit> Exited => _exited.Task;

    public Task OutputCompleted => _output?.Completion ?? Task.CompletedTask;

    public Task<ProcessExit> StopAsync(int signal, TimeSpan timeout)
    {
        lock (_lock)
        {
            // Concurrent and repeated stops share one ladder.
            return _stop ??= StopCoreAsync(signal, timeout);
        }
    }

    public unsafe bool Signal(int signal)
    {
        if (_exited.Task.IsCompleted)
        {
            return false;
        }

        try
        {
            return Interop.Processes.PidfdSendSignal(_pidfd, signal, null, 0) == 0;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>For an in-place upgrade (event loop suspended): the start of a line read from the output but not ended.</summary>
    public Task<byte[]> DetachOutputAsync() => _output?.DetachAsync() ?? Task.FromResult(Array.Empty<byte>());

    /// <summary>Stops whatever is left of the tree (with the unit's KillSignal and TimeoutStopSec), so a disposed process leaves no orphans.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(_defaultStopSignal, _defaultStopTimeout).ConfigureAwait(false);

    /// <summary>The pidfd became readable: the main process exited. Runs on the event-loop thread.</summary>
    public unsafe void OnReady(uint events)
    {
        var info = stackalloc byte[Interop.Processes.SigInfoSize];
        new Span<byte>(info, Interop.Processes.SigInfoSize).Clear();
        int result;
        do
        {
            result = Interop.Processes.WaitId(Interop.Processes.P_PIDFD, _pidfd, info, Interop.Processes.WEXITED | Interop.Processes.WNOHANG);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Interop.Processes.EINTR);

        ProcessExit exit;
        if (result < 0 && !_isChild)
        {
            // Taken over from a daemon that died: its parent is init, which reaps it. While it is still a zombie
            // its status is in /proc; the pidfd (signal 0 reaches a zombie, not a reaped process) confirms the
            // reading was of this very process.
            exit = ProcStat.TryRead(Info.Pid, out var zombie) && zombie.IsDead && zombie.StartTicks == Info.StartTicks
                && zombie.WaitStatus is { } status && Interop.Processes.PidfdSendSignal(_pidfd, 0, null, 0) == 0
                ? ProcessExit.FromWaitStatus(status)
                : ProcessExit.Unknown;
            if (!exit.IsKnown)
            {
                Log.ExitStatusUnknown(_logger, Info.Service, Info.Pid);
            }
        }
        else if (result < 0)
        {
            // ECHILD: someone else reaped it — .NET's SIGCHLD handling does that for all children when SIGCHLD was
            // ignored at start-up (it then reaps with waitpid(-1)); otherwise it only reaps its own Process objects.
            var errno = Marshal.GetLastPInvokeError();
            Log.ReapFailed(_logger, Info.Service, Info.Pid, Marshal.GetPInvokeErrorMessage(errno));
            exit = ProcessExit.Unknown;
        }
        else
        {
            // siginfo_t: si_signo, si_errno, si_code (ints), then the union at offset 16: si_pid, si_uid, si_status.
            var pid = *(int*)(info + 16);
            if (pid == 0)
            {
                // Readable but not yet waitable: cannot happen for an exited child; wait for the next event.
                return;
            }

            var code = *(int*)(info + 8);
            var status = *(int*)(info + 24);
            exit = code == Interop.Processes.CLD_EXITED ? new ProcessExit(status, null) : new ProcessExit(null, status);
        }

        _loop.Unregister(_pidfd, _pidfdId);
        _pidfd.Dispose();
        Log.Exited(_logger, Info.Service, Info.Pid, exit);
        _exited.TrySetResult(exit);
    }

    public void Abandon()
    {
        _pidfd.Dispose();
        _exited.TrySetException(new ObjectDisposedException(nameof(ProcessManager), $"The process manager was disposed while {Info.Service} (pid {Info.Pid}) was running."));
    }

    /// <summary>
    /// <see cref="Timeout.InfiniteTimeSpan"/>, or anything too long for a timer (a unit's <c>infinity</c> may be
    /// <see cref="TimeSpan.MaxValue"/>), becomes <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    internal static TimeSpan NormalizeTimeout(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan || timeout.TotalMilliseconds >= int.MaxValue - 1 ? Timeout.InfiniteTimeSpan
        : timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout;

    private async Task<ProcessExit> StopCoreAsync(int signal, TimeSpan timeout)
    {
        timeout = NormalizeTimeout(timeout);
        // Everything below runs to the end whatever happens to the caller (no token): a half-run ladder would
        // leave orphans (dotnet-watch's ProcessRunner does the same).
        if (_killMode != KillMode.ControlGroup)
        {
            return await StopMainFirstAsync(signal, timeout).ConfigureAwait(false);
        }

        if (Exited.IsCompleted && (await LiveMembersAsync().ConfigureAwait(false)).Count == 0)
        {
            return await Exited.ConfigureAwait(false);
        }

        if (signal != Interop.Processes.SIGKILL && timeout != TimeSpan.Zero)
        {
            // As systemd does: a stopped (SIGSTOP) process only acts on the signal once continued.
            await SignalTreeAsync(signal, signal != Interop.Processes.SIGCONT ? Interop.Processes.SIGCONT : 0).ConfigureAwait(false);

            if (await WaitGoneAsync(timeout).ConfigureAwait(false))
            {
                return await Exited.ConfigureAwait(false);
            }

            Log.StopEscalated(_logger, Info.Service, Info.Pid, signal, timeout);
        }

        await SignalTreeAsync(Interop.Processes.SIGKILL, 0).ConfigureAwait(false);
        if (!await WaitGoneAsync(KillWait).ConfigureAwait(false))
        {
            Log.StopIncomplete(_logger, Info.Service, Info.Pid, string.Join(' ', await LiveMembersAsync().ConfigureAwait(false)));
        }

        return await Exited.ConfigureAwait(false);
    }

    /// <summary>
    /// <c>KillMode=mixed</c> and <c>process</c>: the stop signal goes to the main process alone, SIGKILL to it at the
    /// timeout; then, for <c>mixed</c>, SIGKILL to whatever is left of the tree, while <c>process</c> leaves the rest
    /// running.
    /// </summary>
    private async Task<ProcessExit> StopMainFirstAsync(int signal, TimeSpan timeout)
    {
        if (!Exited.IsCompleted)
        {
            if (signal != Interop.Processes.SIGKILL && timeout != TimeSpan.Zero)
            {
                SignalMain(signal);
                SignalMain(Interop.Processes.SIGCONT);
                try
                {
                    await Exited.WaitAsync(timeout, _timeProvider).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    Log.StopEscalated(_logger, Info.Service, Info.Pid, signal, timeout);
                }
            }

            if (!Exited.IsCompleted)
            {
                SignalMain(Interop.Processes.SIGKILL);
                try
                {
                    await Exited.WaitAsync(KillWait, _timeProvider).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    Log.StopIncomplete(_logger, Info.Service, Info.Pid, Info.Pid.ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        if (_killMode == KillMode.Mixed && (await LiveMembersAsync().ConfigureAwait(false)).Count > 0)
        {
            await SignalTreeAsync(Interop.Processes.SIGKILL, 0).ConfigureAwait(false);
            if (!await WaitGoneAsync(KillWait).ConfigureAwait(false))
            {
                Log.StopIncomplete(_logger, Info.Service, Info.Pid, string.Join(' ', await LiveMembersAsync().ConfigureAwait(false)));
            }
        }

        return await Exited.ConfigureAwait(false);
    }

    /// <summary>Signals the main process through its pidfd, so a pid reused after it was reaped is never hit.</summary>
    private unsafe void SignalMain(int signal)
    {
        try
        {
            _ = Interop.Processes.PidfdSendSignal(_pidfd, signal, null, 0);
        }
        catch (ObjectDisposedException)
        {
            // Reaped meanwhile: nothing to signal.
        }
    }

    /// <summary>
    /// Waits until the main process has been reaped (an event, no polling) and no live process of the cgroups (else
    /// of the group and session) remains (a short re-check loop, run only during a stop).
    /// </summary>
    private async Task<bool> WaitGoneAsync(TimeSpan timeout)
    {
        var start = _timeProvider.GetTimestamp();
        if (!Exited.IsCompleted)
        {
            try
            {
                await Exited.WaitAsync(timeout, _timeProvider).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }

        var delay = TimeSpan.FromMilliseconds(1);
        while ((await LiveMembersAsync().ConfigureAwait(false)).Count > 0)
        {
            var remaining = timeout == Timeout.InfiniteTimeSpan ? delay : timeout - _timeProvider.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            await Task.Delay(delay < remaining ? delay : remaining, _timeProvider).ConfigureAwait(false);
            delay = delay * 2 < MaxRecheck ? delay * 2 : MaxRecheck;
        }

        return true;
    }

    /// <summary>
    /// Sends <paramref name="signal"/>, then <paramref name="then"/> (unless 0), once to every process of the tree.
    /// With cgroups: each process they list, and the main process's group while the main process is not listed yet
    /// (the exec shim has not joined; it has forked nothing). Without: the process group in one call, then the
    /// members that moved to another group of the same session, found in a shared walk of <c>/proc</c>.
    /// </summary>
    private async Task SignalTreeAsync(int signal, int then)
    {
        if (_cgroupProcsFiles.Count > 0)
        {
            var pids = CgroupPids();
            if (!Exited.IsCompleted && !pids.Contains(Info.Pid))
            {
                Signal(-Info.Pid, signal, then);
            }

            foreach (var pid in pids)
            {
                Signal(pid, signal, then);
            }
        }
        else if (GroupIsOurs())
        {
            Signal(-Info.Pid, signal, then);
            foreach (var pid in await SharedProcScan.Shared.OutsideGroupAsync(Info.Pid).ConfigureAwait(false))
            {
                Signal(pid, signal, then);
            }
        }
    }

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/> (a group when negative), then <paramref name="then"/> unless 0.</summary>
    internal static void Signal(int pid, int signal, int then)
    {
        _ = Interop.Processes.Kill(pid, signal);
        if (then != 0)
        {
            _ = Interop.Processes.Kill(pid, then);
        }
    }

    /// <summary>
    /// The live processes of the service. A cgroup lists every process the service ever forked, so where there is
    /// one it is the answer, with no walk of <c>/proc</c>; elsewhere the process group and session are.
    /// </summary>
    private async Task<List<int>> LiveMembersAsync()
    {
        if (_cgroupProcsFiles.Count == 0)
        {
            return GroupIsOurs() ? await SharedProcScan.Shared.LiveMembersAsync(Info.Pid).ConfigureAwait(false) : [];
        }

        var members = new List<int>();
        foreach (var pid in CgroupPids())
        {
            if (ProcStat.TryRead(pid, out var stat) && !stat.IsDead)
            {
                members.Add(pid);
            }
        }

        return members;
    }

    /// <summary>
    /// Whether the process group and session numbered <see cref="ProcessInfo.Pid"/> are still this service's. Until
    /// the main process is reaped, its pid cannot be reused. After, it cannot be reused either while any process
    /// still has it as group or session id; once a process with a different start time owns the pid, the kernel
    /// has freed it, so nothing of ours is left under that number and signalling <c>-pid</c> would hit a stranger.
    /// </summary>
    private bool GroupIsOurs() =>
        !Exited.IsCompleted || !ProcStat.TryRead(Info.Pid, out var stat) || stat.StartTicks == Info.StartTicks;

    /// <summary>The processes in any of the service's cgroups (in v1 each process is listed once per hierarchy).</summary>
    private HashSet<int> CgroupPids()
    {
        var pids = new HashSet<int>();
        foreach (var file in _cgroupProcsFiles)
        {
            try
            {
                foreach (var line in File.ReadLines(file))
                {
                    if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0)
                    {
                        pids.Add(pid);
                    }
                }
            }
            catch (IOException)
            {
                // The cgroup was removed: nothing left in it.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return pids;
    }
}
