using System.Runtime.Versioning;
using GitProc.Processes;
using GitProc.UnitFiles;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Readiness;

/// <summary>
/// A running <c>Type=forking</c> service: the process the daemon started (which has exited, leaving the daemon behind)
/// and the daemon's main process, which is not the daemon's child. Its exit is the main process's (followed through a
/// pidfd; its status is known only when read while it is a zombie), or, without a main PID (<c>GuessMainPID=no</c>),
/// the moment the service's cgroup has no process left. A stop reaches the main process per <c>KillMode=</c>, then
/// whatever is left of the started process's tree and cgroup.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ForkingProcess : IServiceProcess
{
    // How long a stop waits for a main process it signals directly before SIGKILL is its last word.
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(30);

    private readonly IServiceProcess _parent;
    private readonly IServiceProcess? _main;
    private readonly SafeFileHandle? _mainPidfd;
    private readonly TimeProvider _time;
    private readonly int _defaultSignal;
    private readonly TimeSpan _defaultTimeout;
    private readonly Lock _lock = new();
    private Task<ProcessExit>? _stop;

    /// <param name="parent">The started process (exited).</param>
    /// <param name="main">The daemon's main process, taken over as a process this daemon did not start; null for none.</param>
    /// <param name="exited">How the service ends: <paramref name="main"/>'s exit, or its cgroup emptying.</param>
    /// <param name="mainPidfd">
    /// Where the stop signal must be sent to the main process itself: a service without a cgroup whose main process
    /// leads no process group of its own (it did not call <c>setsid()</c>), which a signal to the group would miss.
    /// </param>
    /// <param name="unit">The unit: its stop signal and timeout are what disposing uses.</param>
    /// <param name="time">The clock of the stop's timeout.</param>
    public ForkingProcess(IServiceProcess parent, IServiceProcess? main, Task<ProcessExit> exited, SafeFileHandle? mainPidfd, UnitFile unit, TimeProvider time)
    {
        _parent = parent;
        _main = main;
        _mainPidfd = mainPidfd;
        _time = time;
        _defaultSignal = unit.KillSignal;
        _defaultTimeout = unit.TimeoutStop;
        Exited = exited;

        // The output is still read from the pipe the started process was given, which the daemon inherited: recorded so
        // a daemon that takes the service over reads that very pipe.
        Info = (main ?? parent).Info with { OutputPipe = parent.Info.OutputPipe };
    }

    /// <summary>The main process; for a service without one, the started process (which has exited).</summary>
    public ProcessInfo Info { get; }

    /// <summary>Whether a main PID is known (it is not with <c>GuessMainPID=no</c>).</summary>
    public bool HasMain => _main is not null;

    /// <summary>Signals the daemon's main process (a reload's <c>ReloadSignal=</c>); <see langword="false"/> without one.</summary>
    public bool Signal(int signal) => _main?.Signal(signal) ?? false;

    /// <summary>The started process, whose output pump reads the service's output.</summary>
    public IServiceProcess Parent => _parent;

    public Task<ProcessExit> Exited { get; }

    public Task OutputCompleted => _parent.OutputCompleted;

    public Task<ProcessExit> StopAsync(int signal, TimeSpan timeout)
    {
        lock (_lock)
        {
            return _stop ??= StopCoreAsync(signal, timeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(_defaultSignal, _defaultTimeout).ConfigureAwait(false);
        if (_main is not null)
        {
            await _main.DisposeAsync().ConfigureAwait(false);
        }

        await _parent.DisposeAsync().ConfigureAwait(false);
        _mainPidfd?.Dispose();
    }

    private async Task<ProcessExit> StopCoreAsync(int signal, TimeSpan timeout)
    {
        // Run to the end whatever happens to the caller: a half-run stop would leave the daemon running.
        ProcessExit? exit = null;
        if (_main is not null)
        {
            if (_mainPidfd is not null)
            {
                await StopMainDirectlyAsync(_main, signal, ServiceProcess.NormalizeTimeout(timeout)).ConfigureAwait(false);
            }

            // The main process per KillMode= (the whole cgroup for control-group, SIGKILL to the rest for mixed).
            exit = await _main.StopAsync(signal, timeout).ConfigureAwait(false);
        }

        // What the started process left besides the daemon (its cgroup, else its process group and session).
        var parentExit = await _parent.StopAsync(signal, timeout).ConfigureAwait(false);
        return exit ?? (Exited.IsCompleted ? await Exited.ConfigureAwait(false) : parentExit);
    }

    private async Task StopMainDirectlyAsync(IServiceProcess main, int signal, TimeSpan timeout)
    {
        if (main.Exited.IsCompleted)
        {
            return;
        }

        if (signal != 9 && timeout != TimeSpan.Zero)
        {
            SignalMain(signal);
            SignalMain(18); // SIGCONT: a stopped process acts on the signal only once continued, as systemd does.
            try
            {
                await main.Exited.WaitAsync(timeout, _time).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException)
            {
            }
        }

        SignalMain(9);
        try
        {
            await main.Exited.WaitAsync(KillWait, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Stuck in the kernel; the main process's own stop below reports it.
        }
    }

    /// <summary>Signals the main process through a pidfd, so a pid reused after the process was reaped is never hit.</summary>
    private unsafe void SignalMain(int signal)
    {
        try
        {
            _ = Interop.Processes.PidfdSendSignal(_mainPidfd!, signal, null, 0);
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
