using System.Runtime.Versioning;
using GitProc.Processes;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Readiness;

/// <summary>
/// Watches a process the daemon did not start (a main PID named with <c>MAINPID=</c>) through a pidfd on an event
/// loop. Only its parent learns its exit status; it is read while the process is still a zombie, and is
/// <see cref="ProcessExit.Unknown"/> once its parent has reaped it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class PidWatch : IEpollTarget
{
    private readonly TaskCompletionSource<ProcessExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SafeFileHandle _pidfd;
    private readonly ProcessEventLoop _loop;
    private readonly int _pid;
    private readonly long _startTicks;
    private readonly long _id;

    private PidWatch(int pid, long startTicks, SafeFileHandle pidfd, ProcessEventLoop loop)
    {
        _pid = pid;
        _startTicks = startTicks;
        _pidfd = pidfd;
        _loop = loop;
        _id = loop.NewId();
        loop.Register(pidfd, _id, Interop.Processes.EPOLLIN, this);
    }

    /// <summary>Completes when <paramref name="pid"/> has ended; null when it does not exist (any more).</summary>
    public static Task<ProcessExit>? Watch(int pid, ProcessEventLoop loop)
    {
        if (!ProcStat.TryRead(pid, out var before) || before.IsDead)
        {
            return null;
        }

        var fd = Interop.Processes.PidfdOpen(pid, 0);
        if (fd < 0)
        {
            return null;
        }

        var pidfd = Interop.Processes.ToHandle(fd);

        // The pidfd pins the process: if the pid was reused in between, the start time tells.
        if (!ProcStat.TryRead(pid, out var after) || after.StartTicks != before.StartTicks)
        {
            pidfd.Dispose();
            return null;
        }

        return new PidWatch(pid, before.StartTicks, pidfd, loop)._exited.Task;
    }

    public unsafe void OnReady(uint events)
    {
        var exit = ProcStat.TryRead(_pid, out var zombie) && zombie.IsDead && zombie.StartTicks == _startTicks
            && zombie.WaitStatus is { } status && Interop.Processes.PidfdSendSignal(_pidfd, 0, null, 0) == 0
            ? ProcessExit.FromWaitStatus(status)
            : ProcessExit.Unknown;
        _loop.Unregister(_pidfd, _id);
        _pidfd.Dispose();
        _exited.TrySetResult(exit);
    }

    public void Abandon()
    {
        _pidfd.Dispose();
        _exited.TrySetResult(ProcessExit.Unknown);
    }
}
