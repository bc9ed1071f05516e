using System.Globalization;
using System.Runtime.Versioning;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.UnitFiles;
using Microsoft.Extensions.Logging;

namespace GitProc.Readiness;

/// <summary>
/// The start of a <c>Type=forking</c> service, as systemd does it: the started process must exit with code 0 within
/// <c>TimeoutStartSec=</c>; then the daemon's main PID is read from <c>PIDFile=</c> (waiting for the daemon to write it)
/// and must be a live process of the service, or, without one, is guessed from the service's cgroup
/// (<c>GuessMainPID=</c>). Whatever fails stops what was started (the cgroup, else the process tree) and says why.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ForkingStart(UnitFile unit, IServiceCgroup? cgroup, IProcessManager processes, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// How long a PID file that exists but names no process of the service (a stale file from an earlier run, say) is
    /// read again before the start fails: the daemon usually rewrites it a moment after the started process exits.
    /// A missing file is waited for until <c>TimeoutStartSec=</c>, as systemd does.
    /// </summary>
    internal static readonly TimeSpan PidFileGrace = TimeSpan.FromSeconds(5);

    // How often the cgroup of a service without a main PID (GuessMainPID=no) is checked for processes.
    private static readonly TimeSpan CgroupPollInterval = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan MaxPidFilePoll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Why the unit cannot run here, before anything is started, or null: without <c>PIDFile=</c> the main PID is
    /// found through the cgroup, which a service has only where cgroups are used.
    /// </summary>
    public static string? Unsupported(UnitFile unit, IServiceCgroup? cgroup, string? cgroupNote) =>
        unit.PidFile is null && cgroup is null
            ? $"Type=forking without PIDFile= finds the daemon's main process through the service's cgroup, and {unit.Name} has none ({cgroupNote ?? "cgroups are not used: the daemon is not root, or ResourceControl is off"}); set PIDFile= to the file the daemon writes its PID to"
            : null;

    /// <summary>The PID file's path: specifiers expanded, a relative path under <c>/run/</c> (as systemd reads it).</summary>
    public static string PidFilePath(UnitFile unit, string pidFile)
    {
        var expanded = CommandExpansion.ExpandSpecifiers(pidFile, unit.Name);
        return Path.IsPathRooted(expanded) ? expanded : Path.Combine("/run", expanded);
    }

    /// <summary>
    /// Waits for <paramref name="parent"/> to exit and finds the main process. <paramref name="abort"/> (a stop asked for
    /// meanwhile) ends the wait at once; what was started is then stopped.
    /// </summary>
    public async Task<ForkingOutcome> RunAsync(IServiceProcess parent, CancellationToken abort)
    {
        var began = time.GetTimestamp();
        var timeout = ServiceProcess.NormalizeTimeout(unit.TimeoutStart);
        ProcessExit exit;
        try
        {
            exit = await parent.Exited.WaitAsync(timeout, time, abort).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var stopped = await parent.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
            return ForkingOutcome.Failed(
                stopped with { TimedOut = true },
                $"the start command did not exit within TimeoutStartSec={unit.TimeoutStart.TotalSeconds:0.###}s (Type=forking waits for it to start the daemon and exit): the start timed out and the service was stopped");
        }
        catch (OperationCanceledException)
        {
            return ForkingOutcome.Stopped(await parent.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false));
        }

        var ignoreFailure = unit.ExecStartCommands.Count > 0 && unit.ExecStartCommands[0].IgnoreFailure;
        if (!exit.IsSuccess && !(ignoreFailure && exit.ExitCode is not null))
        {
            await parent.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
            return ForkingOutcome.Failed(exit, $"the start command {exit} (Type=forking needs it to exit with code 0 once the daemon runs)");
        }

        var remaining = timeout == Timeout.InfiniteTimeSpan ? timeout : timeout - time.GetElapsedTime(began);
        var found = unit.PidFile is { } pidFile
            ? await ReadPidFileAsync(PidFilePath(unit, pidFile), remaining, abort).ConfigureAwait(false)
            : await GuessAsync().ConfigureAwait(false);
        if (found.Aborted)
        {
            return ForkingOutcome.Stopped(await parent.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false));
        }

        if (found.Failure is { } failure)
        {
            await parent.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
            return ForkingOutcome.Failed(exit with { Protocol = failure }, failure);
        }

        if (found.Pid is not { } pid)
        {
            // No main PID: the service runs while its cgroup has processes (none left: it has ended already, as systemd
            // sees a forking service whose daemon left nothing behind: started, then inactive).
            return ForkingOutcome.Running(new ForkingProcess(parent, main: null, WaitCgroupEmptyAsync(exit), mainPidfd: null, unit, time));
        }

        var main = processes.Adopt(
            new ProcessLaunch(unit, unit.ExecStartCommands[0]) { CgroupProcsFiles = cgroup?.ProcsFiles ?? [] },
            new ProcessInfo(unit.Name, pid, time.GetUtcNow(), found.StartTicks));
        if (main is null)
        {
            var reason = string.Create(CultureInfo.InvariantCulture, $"the daemon's main process (PID {pid}) ended before it could be watched");
            await parent.StopAsync(unit.KillSignal, unit.TimeoutStop).ConfigureAwait(false);
            return ForkingOutcome.Failed(exit with { Protocol = reason }, reason);
        }

        var exited = FollowAsync(main.Exited);
        return ForkingOutcome.Running(new ForkingProcess(parent, main, exited, DirectSignalHandle(pid, found.StartTicks), unit, time));
    }

    /// <summary>The daemon's exit, its unknown status said in the words that fit it.</summary>
    private static async Task<ProcessExit> FollowAsync(Task<ProcessExit> exited)
    {
        var exit = await exited.ConfigureAwait(false);
        return exit.IsKnown ? exit : exit with { UnknownBecause = "the daemon of a Type=forking service is not this daemon's child, and its parent reaped it first" };
    }

    /// <summary>
    /// Without a cgroup a stop signals the main process's process group; a daemon that did not make its own (no
    /// <c>setsid()</c>) is signalled through a pidfd of its own instead.
    /// </summary>
    private Microsoft.Win32.SafeHandles.SafeFileHandle? DirectSignalHandle(int pid, long startTicks)
    {
        if (cgroup is not null || unit.KillMode != KillMode.ControlGroup || !ProcStat.TryRead(pid, out var stat) || stat.ProcessGroup == pid)
        {
            return null;
        }

        var fd = Interop.Processes.PidfdOpen(pid, 0);
        if (fd < 0)
        {
            return null;
        }

        var handle = Interop.Processes.ToHandle(fd);
        if (!ProcStat.TryRead(pid, out stat) || stat.StartTicks != startTicks)
        {
            handle.Dispose();
            return null;
        }

        return handle;
    }

    /// <summary>
    /// Reads the PID file until it names a live process of the service: a missing file is waited for until
    /// <paramref name="remaining"/> has passed (or, with a cgroup, until no process of the service is left); a file
    /// naming something else for <see cref="PidFileGrace"/>.
    /// </summary>
    private async Task<MainPid> ReadPidFileAsync(string path, TimeSpan remaining, CancellationToken abort)
    {
        var began = time.GetTimestamp();
        long? invalidSince = null;
        var delay = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            var (pid, ticks, problem, present) = await TryReadPidFileAsync(path).ConfigureAwait(false);
            if (problem is null)
            {
                Log.ForkingMainPid(logger, unit.Name, pid, $"PIDFile={path}");
                return new MainPid(pid, ticks, null);
            }

            var now = time.GetTimestamp();
            if (present)
            {
                invalidSince ??= now;
            }

            var timedOut = remaining != Timeout.InfiniteTimeSpan && time.GetElapsedTime(began, now) >= remaining;
            if (timedOut || (invalidSince is { } since && time.GetElapsedTime(since, now) >= PidFileGrace))
            {
                return new MainPid(0, 0, present
                    ? $"{problem}; the start failed"
                    : $"{problem} within TimeoutStartSec={unit.TimeoutStart.TotalSeconds:0.###}s after the start command exited; the start failed");
            }

            if (!present && cgroup is not null && (await LivePidsAsync().ConfigureAwait(false)).Count == 0)
            {
                return new MainPid(0, 0, $"{problem}, and no process of the service is left (the daemon ended without writing it); the start failed");
            }

            try
            {
                await Task.Delay(delay, time, abort).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return new MainPid(0, 0, null) { Aborted = true };
            }

            delay = delay * 2 < MaxPidFilePoll ? delay * 2 : MaxPidFilePoll;
        }
    }

    /// <summary>One reading of the PID file: the pid it names and that process's start ticks, or what is wrong.</summary>
    private async Task<(int Pid, long Ticks, string? Problem, bool Present)> TryReadPidFileAsync(string path)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return (0, 0, $"the daemon did not write its PID file {path} (PIDFile=)", false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (0, 0, $"the PID file {path} (PIDFile=) cannot be read: {ex.Message}", true);
        }

        // systemd reads the first line; surrounding whitespace is allowed.
        var line = text.AsSpan().TrimStart();
        var end = line.IndexOfAny('\n', '\r');
        var first = (end < 0 ? line : line[..end]).Trim();
        if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
        {
            return (0, 0, $"the PID file {path} (PIDFile=) does not hold a process id (it reads '{Shorten(first.ToString())}')", true);
        }

        var problem = await CheckMainAsync(pid).ConfigureAwait(false);
        return problem is null && ProcStat.TryRead(pid, out var stat)
            ? (pid, stat.StartTicks, null, true)
            : (0, 0, $"the PID file {path} (PIDFile=) names PID {pid}, {problem ?? "which is not running"}", true);
    }

    /// <summary>
    /// Why <paramref name="pid"/> cannot be the main process, or null: it must run, be neither PID 1 nor this daemon,
    /// and belong to the service: be in its cgroup, or, where it has none, run as the service's user (the file is
    /// written by the service, which must not make GitProc signal another user's process).
    /// </summary>
    private async Task<string?> CheckMainAsync(int pid)
    {
        if (pid == 1 || pid == Environment.ProcessId)
        {
            return pid == 1 ? "which is init" : "which is the GitProc daemon itself";
        }

        if (!ProcStat.TryRead(pid, out var stat) || stat.IsDead)
        {
            return "which is not running (a stale file?)";
        }

        if (cgroup is not null)
        {
            return (await LivePidsAsync().ConfigureAwait(false)).Contains(pid)
                ? null
                : "which is not a process of the service (it is not in the service's cgroup)";
        }

        var expected = ServiceUid();
        return ProcessUid(pid) is { } uid && expected is { } want && uid != want
            ? string.Create(CultureInfo.InvariantCulture, $"which runs as uid {uid}, not as the service's user (uid {want}); without a cgroup that is how a process of the service is told")
            : null;
    }

    /// <summary>
    /// <c>GuessMainPID=</c>: one process left in the cgroup is the main process; of several, the one whose parent is
    /// outside the cgroup (the daemon, re-parented when the started process exited), the oldest if several are.
    /// </summary>
    private async Task<MainPid> GuessAsync()
    {
        if (!unit.GuessMainPid)
        {
            Log.ForkingNoMainPid(logger, unit.Name, "GuessMainPID=no: the service runs while its cgroup has processes");
            return new MainPid(null, 0, null);
        }

        var live = await LivePidsAsync().ConfigureAwait(false);
        var members = new Dictionary<int, ProcStat>();
        foreach (var pid in live)
        {
            if (ProcStat.TryRead(pid, out var stat) && !stat.IsDead)
            {
                members[pid] = stat;
            }
        }

        if (members.Count == 0)
        {
            Log.ForkingNoMainPid(logger, unit.Name, "the start command exited and left no process in the service's cgroup");
            return new MainPid(null, 0, null);
        }

        var roots = members.Where(m => !members.ContainsKey(m.Value.ParentPid)).ToList();
        var candidates = roots.Count > 0 ? roots : [.. members];
        var chosen = candidates.OrderBy(m => m.Value.StartTicks).ThenBy(m => m.Key).First();
        var how = members.Count == 1
            ? "the only process left in the service's cgroup"
            : candidates.Count == 1
                ? string.Create(CultureInfo.InvariantCulture, $"of the {members.Count} processes in the service's cgroup, the only one whose parent is outside it")
                : string.Create(CultureInfo.InvariantCulture, $"of the {members.Count} processes in the service's cgroup, the oldest of those whose parent is outside it ({string.Join(", ", candidates.Select(c => c.Key).Order())}); set PIDFile= to name it exactly");
        Log.ForkingMainPid(logger, unit.Name, chosen.Key, $"guessed: {how}");
        return new MainPid(chosen.Key, chosen.Value.StartTicks, null);
    }

    /// <summary>Without a main PID: ends (with the started process's exit) once the cgroup has no live process.</summary>
    private async Task<ProcessExit> WaitCgroupEmptyAsync(ProcessExit exit)
    {
        while ((await LivePidsAsync().ConfigureAwait(false)).Count > 0)
        {
            await Task.Delay(CgroupPollInterval, time).ConfigureAwait(false);
        }

        return exit;
    }

    /// <summary>The live (not zombie) processes of the service's cgroup; empty without one.</summary>
    private async Task<HashSet<int>> LivePidsAsync()
    {
        var live = new HashSet<int>();
        if (cgroup is null)
        {
            return live;
        }

        IReadOnlyList<int> pids;
        try
        {
            pids = await cgroup.GetPidsAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or GitProcException)
        {
            return live;
        }

        foreach (var pid in pids)
        {
            if (ProcStat.TryRead(pid, out var stat) && !stat.IsDead)
            {
                live.Add(pid);
            }
        }

        return live;
    }

    private uint? ServiceUid() =>
        unit.User is { Length: > 0 } user ? UserAccount.Find(user)?.Uid : Interop.Processes.GetEUid();

    /// <summary>The real uid of <paramref name="pid"/> (the first field of <c>Uid:</c> in <c>/proc/PID/status</c>).</summary>
    private static uint? ProcessUid(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/status")))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    var fields = line[4..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid : null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>A main PID found (or none, for no main process), or why none could be.</summary>
    private sealed record MainPid(int? Pid, long StartTicks, string? Failure)
    {
        public bool Aborted { get; init; }
    }
}
