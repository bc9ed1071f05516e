using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace GitProc.Processes;

/// <summary>
/// Starts service processes with glibc's <c>posix_spawn</c> and watches them with pidfds on one event-loop
/// thread.
/// <para>
/// Why <c>posix_spawn</c>: fork() in a multi-threaded runtime is unsafe (only the forking thread survives in the
/// child, with locks held by the others), and <see cref="System.Diagnostics.Process"/> neither puts the child in
/// its own session nor reports a terminating signal apart from an exit code (it reports 128+signal, so exit 137
/// and SIGKILL look alike, and systemd's restart rules need the difference). glibc's posix_spawn uses
/// <c>CLONE_VFORK</c>, reports a failed exec as its result, and does in the child what we need:
/// <c>POSIX_SPAWN_SETSID</c> (own session and process group, so <c>kill(-pid)</c> reaches the tree),
/// <c>POSIX_SPAWN_SETSIGDEF</c> (every signal back to its default: .NET ignores SIGPIPE and handles SIGCHLD,
/// SIGINT, SIGTERM, … and an ignored disposition would survive exec), <c>POSIX_SPAWN_SETSIGMASK</c> (empty mask),
/// stdin from <c>/dev/null</c>, stdout and stderr onto one pipe, and chdir.
/// </para>
/// <para>
/// What posix_spawn cannot do — switch user and group, join cgroups — must still happen in the child before the
/// command runs (so nothing it forks escapes its cgroup), so those starts go through a fixed shim:
/// <c>/bin/sh -c SCRIPT</c> joins each cgroup (writing <c>0</c>, "myself", into its join file) and execs
/// <c>setpriv</c> (for a user) and then the command. The command's argv is passed as positional parameters, never put into the script, so no
/// shell parsing of the command happens. The shim also sets the service's open-file limit (<c>ulimit</c>) when it
/// differs from the daemon's, which raised its own (see <see cref="FileDescriptorLimit"/>); posix_spawn cannot set
/// rlimits. Without a cgroup, a user or a limit to change, the program is spawned directly.
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ProcessManager : IProcessManager, IAsyncDisposable, IDisposable
{
    /// <summary>How long <see cref="RunAsync"/> waits, after the command's tree is gone, for its output to be stored.</summary>
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Descriptors one spawn opens before its service runs: the output pipe's two ends, the write end reopened
    /// read-write, and the pidfd (plus the stat file read while the write end is already closed).
    /// </summary>
    private const int SpawnDescriptors = 4;

    /// <summary>
    /// One spawn at a time, from the descriptor check to the pidfd: two spawns must not both count the same free
    /// descriptors (see <see cref="DescriptorReserve"/>). A spawn takes well under a millisecond (vfork).
    /// </summary>
    private static readonly Lock SpawnSync = new();

    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ProcessEventLoop _loop;

    // Who the daemon is, read once; its open-file limit is read again for each launch (the host may raise it later).
    private readonly Lazy<LaunchHost> _host;
    private readonly nint _spawnAttributes;
    private int _disposed;

    public unsafe ProcessManager(ILogger<ProcessManager>? logger = null, TimeProvider? timeProvider = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;

        _host = new Lazy<LaunchHost>(() => LaunchHost.OfThisProcess(IsPrivileged));

        // The attributes are the same for every spawn and only read by posix_spawn, so they are built once.
        var attributes = NativeMemory.AllocZeroed(Interop.Processes.SpawnAttrSize);
        _spawnAttributes = (nint)attributes;
        SpawnAttributes.Initialize(attributes, newSession: true);

        _loop = new ProcessEventLoop(_logger);
    }

    /// <summary>Whether user and group switching is allowed; a seam so tests running as root can check the refusal.</summary>
    internal bool IsPrivileged { get; init; } = Environment.IsPrivilegedProcess;

    public async Task<IServiceProcess> StartAsync(ProcessLaunch launch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(launch);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            cancellationToken.ThrowIfCancellationRequested();
            var fromFiles = launch.Unit.EnvironmentFiles.Count == 0 ? null : await ReadEnvironmentFilesAsync(launch, cancellationToken).ConfigureAwait(false);
            var plan = LaunchPlanner.Plan(launch, fromFiles, _host.Value with { OpenFileLimit = FileDescriptorLimit.Current });
            return Spawn(launch, plan);
        }
        catch when (launch.Output is not null)
        {
            await launch.Output.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<ProcessExit> RunAsync(ProcessLaunch launch, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var process = (ServiceProcess)await StartAsync(launch, cancellationToken).ConfigureAwait(false);
        var unit = launch.Unit;
        ProcessExit exit;
        try
        {
            exit = await process.Exited.WaitAsync(ServiceProcess.NormalizeTimeout(timeout), _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            exit = await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false) with { TimedOut = true };
        }
        catch (OperationCanceledException)
        {
            await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
            throw;
        }

        // A command run to completion leaves nothing behind, as systemd kills what ExecStartPre forked before the
        // next command; only then can its output pipe reach end of file.
        await process.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
        try
        {
            await process.OutputCompleted.WaitAsync(OutputGrace, _timeProvider, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Something outside the group (a setsid escapee) holds the pipe; the exit is what counts.
        }

        return exit;
    }

    public bool IsSameProcessAlive(int pid, long startTicks) =>
        pid > 0 && ProcStat.TryRead(pid, out var stat) && !stat.IsDead && stat.StartTicks == startTicks;

    public async Task StopRecordedAsync(int pid, long startTicks, int signal, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!IsSameProcessAlive(pid, startTicks))
        {
            return;
        }

        timeout = ServiceProcess.NormalizeTimeout(timeout);
        try
        {
            await StopRecordedCoreAsync(pid, startTicks, signal, timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ReapIfOurs(pid, startTicks);
        }
    }

    /// <summary>
    /// A recorded process that is this process's child (the daemon re-executed itself since it started it) stays a
    /// zombie once stopped until reaped here: nothing else waits for it.
    /// </summary>
    private static unsafe void ReapIfOurs(int pid, long startTicks)
    {
        if (ProcStat.TryRead(pid, out var stat) && stat.IsDead && stat.StartTicks == startTicks && stat.ParentPid == Environment.ProcessId)
        {
            var info = stackalloc byte[Interop.Processes.SigInfoSize];
            _ = Interop.Processes.WaitIdPid(1 /* P_PID */, pid, info, Interop.Processes.WEXITED | Interop.Processes.WNOHANG);
        }
    }

    private async Task StopRecordedCoreAsync(int pid, long startTicks, int signal, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Not watched through a pidfd: a short re-check loop, only while stopping.
        Log.StoppingRecorded(_logger, pid, signal);
        await SignalRecordedAsync(pid, signal, signal != Interop.Processes.SIGKILL ? Interop.Processes.SIGCONT : 0).ConfigureAwait(false);

        try
        {
            if (await WaitRecordedGoneAsync(pid, startTicks, timeout, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
        finally
        {
            // Also when cancelled: the SIGKILL is always sent.
            if (IsSameProcessAlive(pid, startTicks) || (await SharedProcScan.Shared.LiveMembersAsync(pid).ConfigureAwait(false)).Count > 0)
            {
                await SignalRecordedAsync(pid, Interop.Processes.SIGKILL, 0).ConfigureAwait(false);
            }
        }

        await WaitRecordedGoneAsync(pid, startTicks, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
    }

    public void Suspend() => _loop.Suspend();

    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _loop.Dispose();
        _ = Interop.Processes.PosixSpawnAttrDestroy((void*)_spawnAttributes);
        NativeMemory.Free((void*)_spawnAttributes);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task SignalRecordedAsync(int pid, int signal, int then)
    {
        // The recorded pid is a live session leader (checked by the caller), so -pid is its group.
        ServiceProcess.Signal(-pid, signal, then);
        foreach (var member in await SharedProcScan.Shared.OutsideGroupAsync(pid).ConfigureAwait(false))
        {
            ServiceProcess.Signal(member, signal, then);
        }
    }

    private async Task<bool> WaitRecordedGoneAsync(int pid, long startTicks, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = _timeProvider.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(1);
        while (IsSameProcessAlive(pid, startTicks) || (await SharedProcScan.Shared.LiveMembersAsync(pid).ConfigureAwait(false)).Count > 0)
        {
            var remaining = timeout == Timeout.InfiniteTimeSpan ? delay : timeout - _timeProvider.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            await Task.Delay(delay < remaining ? delay : remaining, _timeProvider, cancellationToken).ConfigureAwait(false);
            delay = delay * 2 < TimeSpan.FromMilliseconds(10) ? delay * 2 : TimeSpan.FromMilliseconds(10);
        }

        return true;
    }

    private static async Task<Dictionary<string, string>> ReadEnvironmentFilesAsync(ProcessLaunch launch, CancellationToken cancellationToken)
    {
        var unit = launch.Unit;
        var fromFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var reference in unit.EnvironmentFiles)
        {
            var path = CommandExpansion.ExpandSpecifiers(reference.Path, unit.Name);
            if (!Path.IsPathRooted(path))
            {
                throw new ProcessStartException(unit.Name, LaunchPlanner.ExecutableOf(launch), $"environment file {path} is not an absolute path");
            }

            string content;
            try
            {
                content = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                if (reference.Optional)
                {
                    continue;
                }

                throw new ProcessStartException(unit.Name, LaunchPlanner.ExecutableOf(launch), $"environment file {path} does not exist (prefix it with '-' in EnvironmentFile= to make it optional)", ex);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                DescriptorReserve.ReleaseOn(ex.HResult);
                throw new ProcessStartException(unit.Name, LaunchPlanner.ExecutableOf(launch), $"environment file {path} cannot be read: {ex.Message}", ex)
                {
                    IsResourceShortage = ResourceShortage.Is(ex),
                };
            }

            EnvironmentFileReader.Parse(content, fromFiles);
        }

        return fromFiles;
    }

    private ServiceProcess Spawn(ProcessLaunch launch, LaunchPlan plan)
    {
        lock (SpawnSync)
        {
            if (!DescriptorReserve.HasRoomFor(SpawnDescriptors))
            {
                throw new ProcessStartException(
                    launch.Unit.Name,
                    plan.Executable,
                    $"the daemon is out of file descriptors: fewer than {SpawnDescriptors + DescriptorReserve.Headroom} are free beyond the {DescriptorReserve.Size} it keeps for itself")
                {
                    IsResourceShortage = true,
                };
            }

            return SpawnUnderLock(launch, plan);
        }
    }

    private unsafe ServiceProcess SpawnUnderLock(ProcessLaunch launch, LaunchPlan plan)
    {
        var service = launch.Unit.Name;

        SafeFileHandle? readEnd = null;
        SafeFileHandle? writeEnd = null;
        var actions = NativeMemory.AllocZeroed(Interop.Processes.FileActionsSize);
        byte* block = null;
        string? outputPipe = null;
        int pid;
        int error;
        var startTime = _timeProvider.GetUtcNow();
        try
        {
            _ = Interop.Processes.PosixSpawnFileActionsInit(actions);
            _ = Interop.Processes.PosixSpawnFileActionsAddOpen(actions, 0, "/dev/null", Interop.Processes.O_RDONLY, 0);
            if (launch.Output is not null)
            {
                // One pipe for stdout and stderr: one reader per service, and their interleaving is kept. O_CLOEXEC
                // so that a process spawned concurrently on another thread does not inherit it; the dup2 in the
                // child clears the flag on fds 1 and 2. Only our read end is non-blocking: the flag belongs to the
                // open file description, and the service must see an ordinary blocking stdout.
                var fds = stackalloc int[2];
                if (Interop.Processes.Pipe2(fds, Interop.Processes.O_CLOEXEC) != 0)
                {
                    throw Failed(service, plan.Executable, "cannot create its output pipe", Marshal.GetLastPInvokeError());
                }

                readEnd = Interop.Processes.ToHandle(fds[0]);
                using (var pipeWriteEnd = Interop.Processes.ToHandle(fds[1]))
                {
                    // The service gets the pipe opened read-write (through /proc, which reopens the pipe itself): it
                    // then counts as a reader too, so its writes never fail with EPIPE or SIGPIPE while no daemon reads
                    // — a daemon that dies or re-executes itself must not kill its services. They block once the pipe
                    // is full, until the next daemon reattaches (IProcessManager.Adopt) and drains it.
                    writeEnd = OpenReadWrite(fds[1]) ?? throw Failed(
                        service, plan.Executable, "cannot open its output pipe read-write", Marshal.GetLastPInvokeError());
                }

                outputPipe = PipeName(readEnd);
                var flags = Interop.Processes.Fcntl(readEnd, Interop.Processes.F_GETFL, 0);
                _ = Interop.Processes.Fcntl(readEnd, Interop.Processes.F_SETFL, flags | Interop.Processes.O_NONBLOCK);
                var childEnd = (int)writeEnd.DangerousGetHandle();
                _ = Interop.Processes.PosixSpawnFileActionsAddDup2(actions, childEnd, 1);
                _ = Interop.Processes.PosixSpawnFileActionsAddDup2(actions, childEnd, 2);
            }
            else
            {
                _ = Interop.Processes.PosixSpawnFileActionsAddOpen(actions, 1, "/dev/null", Interop.Processes.O_WRONLY, 0);
                _ = Interop.Processes.PosixSpawnFileActionsAddDup2(actions, 1, 2);
            }

            _ = Interop.Processes.PosixSpawnFileActionsAddChdir(actions, plan.WorkingDirectory);

            block = NativeBlock.Build(plan.Program, plan.Arguments, plan.Environment, out var path, out var argv, out var envp);
            error = Interop.Processes.PosixSpawn(out pid, path, actions, (void*)_spawnAttributes, argv, envp);
        }
        finally
        {
            _ = Interop.Processes.PosixSpawnFileActionsDestroy(actions);
            NativeMemory.Free(actions);
            NativeMemory.Free(block);

            // The child has its copies (fds 1 and 2); ours must go, or end of file would never come.
            writeEnd?.Dispose();
        }

        if (error != 0)
        {
            readEnd?.Dispose();
            throw ResourceShortage.IsShortage(error)
                ? Failed(service, plan.Executable, "posix_spawn failed", error)
                : new ProcessStartException(service, plan.Executable, SpawnErrorReason(error));
        }

        var pidfd = Interop.Processes.PidfdOpen(pid, 0);

        // The process has executed (vfork semantics) and is not reaped yet, so its stat file exists; only a shortage
        // keeps it from being read, and without its start time the process could not be told apart later.
        var statError = 0;
        if (pidfd < 0 || !ProcStat.TryRead(pid, out var stat, out statError))
        {
            var errno = pidfd < 0 ? Marshal.GetLastPInvokeError() : statError;
            readEnd?.Dispose();
            _ = Interop.Processes.Kill(-pid, Interop.Processes.SIGKILL);
            if (pidfd >= 0)
            {
                Interop.Processes.ToHandle(pidfd).Dispose();
            }

            ReapUnwatched(pid);
            throw Failed(service, plan.Executable, pidfd < 0 ? $"cannot watch process {pid}: pidfd_open failed" : $"cannot read /proc/{pid}/stat", errno);
        }

        var info = new ProcessInfo(service, pid, startTime, stat.StartTicks) { OutputPipe = outputPipe };
        OutputPump? pump = readEnd is null ? null : new OutputPump(readEnd, launch.Output!, _loop, _logger, service);
        var process = new ServiceProcess(info, Interop.Processes.ToHandle(pidfd), _loop, _logger, _timeProvider, launch, pump, isChild: true);
        pump?.Start();
        Log.Started(_logger, service, pid, plan.Executable);
        return process;
    }

    public IServiceProcess? Adopt(ProcessLaunch launch, ProcessInfo recorded)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(recorded);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var process = TryAdopt(launch, recorded);
        if (process is null && launch.Output is not null)
        {
            _ = launch.Output.DisposeAsync().AsTask();
        }

        return process;
    }

    private ServiceProcess? TryAdopt(ProcessLaunch launch, ProcessInfo recorded)
    {
        var service = launch.Unit.Name;
        var pid = recorded.Pid;

        // A zombie is taken over only by its parent (this process, re-executed), which reaps it for its status;
        // another's zombie is gone in a moment and its service must start again.
        if (pid <= 0 || !ProcStat.TryRead(pid, out var stat) || stat.StartTicks != recorded.StartTicks
            || (stat.IsDead && stat.ParentPid != Environment.ProcessId))
        {
            return null;
        }

        var fd = Interop.Processes.PidfdOpen(pid, 0);
        if (fd < 0)
        {
            return null;
        }

        var pidfd = Interop.Processes.ToHandle(fd);

        // The pidfd pins this very process: checked again, a reused pid cannot slip in between.
        if (!ProcStat.TryRead(pid, out stat) || stat.StartTicks != recorded.StartTicks)
        {
            pidfd.Dispose();
            return null;
        }

        var readEnd = launch.Output is null || recorded.OutputPipe is null ? null : ReopenOutput(pid, recorded.OutputPipe);
        var isChild = stat.ParentPid == Environment.ProcessId;
        var info = recorded with { Service = service, OutputPipe = readEnd is null ? null : recorded.OutputPipe };
        var pump = readEnd is null ? null : new OutputPump(readEnd, launch.Output!, _loop, _logger, service);
        var process = new ServiceProcess(info, pidfd, _loop, _logger, _timeProvider, launch, pump, isChild);
        if (pump is null && launch.Output is not null)
        {
            Log.OutputNotReattached(_logger, service, pid);
            _ = launch.Output.DisposeAsync().AsTask();
        }

        pump?.Start();
        Log.Adopted(_logger, service, pid, isChild);
        return process;
    }

    /// <summary>
    /// Opens, for reading, the pipe named <paramref name="pipe"/> through the process's stdout or stderr, checking it
    /// is that very pipe (a process that has redirected its output elsewhere is not read from).
    /// </summary>
    private static SafeFileHandle? ReopenOutput(int pid, string pipe)
    {
        foreach (var stdio in (ReadOnlySpan<int>)[1, 2])
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/fd/{stdio}");
            if (LinkTarget(path) != pipe)
            {
                continue;
            }

            var fd = Interop.Processes.Open(path, Interop.Processes.O_RDONLY | Interop.Processes.O_NONBLOCK | Interop.Processes.O_CLOEXEC, 0);
            if (fd < 0)
            {
                continue;
            }

            var handle = Interop.Processes.ToHandle(fd);
            if (PipeName(handle) == pipe)
            {
                return handle;
            }

            handle.Dispose();
        }

        return null;
    }

    /// <summary>Reopens an open pipe end read-write through <c>/proc/self/fd</c>; null (errno set) when that fails.</summary>
    private static SafeFileHandle? OpenReadWrite(int fd)
    {
        var reopened = Interop.Processes.Open(
            string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd}"), Interop.Processes.O_RDWR | Interop.Processes.O_CLOEXEC, 0);
        return reopened < 0 ? null : Interop.Processes.ToHandle(reopened);
    }

    /// <summary>A descriptor's pipe as <c>/proc</c> names it, <c>pipe:[INODE]</c>.</summary>
    private static string? PipeName(SafeFileHandle handle) =>
        LinkTarget(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{handle.DangerousGetHandle()}"));

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static unsafe void ReapUnwatched(int pid)
    {
        var info = stackalloc byte[Interop.Processes.SigInfoSize];
        _ = Interop.Processes.WaitIdPid(1 /* P_PID */, pid, info, Interop.Processes.WEXITED);
    }

    /// <summary>A failed system call of the start, marked as the daemon's shortage when its errno says so.</summary>
    private static ProcessStartException Failed(string service, string executable, string what, int errno)
    {
        if (!ResourceShortage.IsShortage(errno))
        {
            return new(service, executable, $"{what}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        DescriptorReserve.ReleaseOn(errno);
        return new(service, executable, $"{what}: {Marshal.GetPInvokeErrorMessage(errno)}: {ResourceShortage.Describe(errno)}") { IsResourceShortage = true };
    }

    private static string SpawnErrorReason(int error) => error switch
    {
        Interop.Processes.ENOENT => "no such file (or its interpreter is missing)",
        Interop.Processes.EACCES => "permission denied (not executable, or the working directory is not accessible)",
        8 /* ENOEXEC */ => "not an executable format (a script needs a #! line)",
        _ => Marshal.GetPInvokeErrorMessage(error),
    };
}
