using System.Globalization;
using System.Runtime.Versioning;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.UnitFiles;
using Microsoft.Extensions.Logging;

namespace GitProc.Readiness;

/// <summary>
/// What one service says through its notification socket (sd_notify(3)), checked against <c>NotifyAccess=</c> and
/// kept for the current launch: whether it is ready, its status text, a main PID it named, and its watchdog. The
/// socket lives from the service's first start until it is stopped (across automatic restarts, like its cgroup);
/// <see cref="Begin"/> resets what a launch said.
/// </summary>
/// <remarks>
/// Datagrams arrive on the notification event-loop thread; everything here is guarded by one lock, and what is
/// called back (<c>changed</c>, the watchdog action) must not block.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class ServiceNotifications : IDisposable
{
    // A refused sender is reported at once, then at most this often (with the count of those not reported).
    private static readonly TimeSpan RefusalReportInterval = TimeSpan.FromSeconds(10);

    // Datagrams that arrive before the main process's pid is known (it may notify before posix_spawn's caller has
    // recorded it); checked once it is, the rest dropped.
    private const int MaxEarly = 32;

    private readonly string _service;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action _changed;
    private readonly NotifySocket _socket;
    private readonly NotifyDirectory _directory;
    private readonly Lock _lock = new();
    private readonly List<(int Pid, uint Uid, string Text)> _early = [];

    private UnitFile _unit;
    private IServiceCgroup? _cgroup;
    private int _mainPid;
    private int? _namedMainPid;
    private bool _awaitingMain;
    private TaskCompletionSource _ready = NewReady();
    private string? _statusText;
    private bool _stopping;
    private bool _reloading;
    private long _extendedUntil;
    private bool _cgroupWarned;

    private ITimer? _watchdog;
    private TimeSpan _watchdogInterval;
    private Action? _onWatchdog;
    private bool _watchdogFired;

    private long _lastRefusalReport = long.MinValue;
    private long _suppressedRefusals;

    public ServiceNotifications(UnitFile unit, NotifyDirectory directory, TimeProvider time, ILogger logger, Action changed)
    {
        _unit = unit;
        _service = unit.Name;
        _time = time;
        _logger = logger;
        _changed = changed;
        _directory = directory;
        _socket = directory.Open(unit.Name, Receive);
    }

    /// <summary>The socket's path (<c>NOTIFY_SOCKET</c>).</summary>
    public string SocketPath => _socket.Path;

    /// <summary>The last <c>STATUS=</c> of the current launch, if any.</summary>
    public string? StatusText
    {
        get
        {
            lock (_lock)
            {
                return _statusText;
            }
        }
    }

    /// <summary>The main PID the service named with <c>MAINPID=</c>, if it did.</summary>
    public int? NamedMainPid
    {
        get
        {
            lock (_lock)
            {
                return _namedMainPid;
            }
        }
    }

    /// <summary>What the service last said it is doing: <c>STOPPING=1</c>, or <c>RELOADING=1</c> (until <c>READY=1</c>).</summary>
    public (bool Stopping, bool Reloading) Announced
    {
        get
        {
            lock (_lock)
            {
                return (_stopping, _reloading);
            }
        }
    }

    /// <summary>The variables every process of the service gets: <c>NOTIFY_SOCKET</c>, and <c>WATCHDOG_USEC</c> with a watchdog.</summary>
    public IReadOnlyDictionary<string, string> Environment(UnitFile unit)
    {
        var environment = new Dictionary<string, string>(2, StringComparer.Ordinal) { ["NOTIFY_SOCKET"] = _socket.Path };
        if (unit.Watchdog is { } watchdog)
        {
            environment["WATCHDOG_USEC"] = ((long)watchdog.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        }

        return environment;
    }

    /// <summary>A new launch: forgets what the previous one said; datagrams wait until <see cref="SetMain"/>.</summary>
    public void Begin(UnitFile unit, IServiceCgroup? cgroup)
    {
        lock (_lock)
        {
            DisarmWatchdogUnderLock();
            _unit = unit;
            _cgroup = cgroup;
            _mainPid = 0;
            _namedMainPid = null;
            _awaitingMain = true;
            _ready.TrySetCanceled();
            _ready = NewReady();
            _statusText = null;
            _stopping = false;
            _reloading = false;
            _extendedUntil = 0;
            _watchdogFired = false;
            _early.Clear();
        }
    }

    /// <summary>The main process runs as <paramref name="pid"/>: datagrams that came before are checked now.</summary>
    public void SetMain(int pid)
    {
        List<(int Pid, uint Uid, string Text)> early;
        lock (_lock)
        {
            _mainPid = pid;
            _awaitingMain = false;
            early = [.. _early];
            _early.Clear();
        }

        foreach (var (sender, uid, text) in early)
        {
            Receive(sender, uid, text);
        }
    }

    /// <summary>
    /// How the service's main process ends: <paramref name="spawned"/>'s exit, unless it named another main process
    /// with <c>MAINPID=</c> that still runs when it exits; then that one's (its status is known only while it is a
    /// zombie: it is not the daemon's child).
    /// </summary>
    public async Task<ProcessExit> FollowMainAsync(Task<ProcessExit> spawned)
    {
        var exit = await spawned.ConfigureAwait(false);
        while (NamedMainPid is { } named && _directory.WatchExit(named) is { } watched)
        {
            exit = await watched.ConfigureAwait(false);
            lock (_lock)
            {
                if (_namedMainPid == named)
                {
                    return exit;
                }
            }
        }

        return exit;
    }

    /// <summary>
    /// Waits for <c>READY=1</c>, the main process's exit, <paramref name="timeout"/> (extended by
    /// <c>EXTEND_TIMEOUT_USEC=</c>) or <paramref name="abort"/>, whichever comes first.
    /// </summary>
    public async Task<ReadyOutcome> WaitReadyAsync(Task<ProcessExit> exited, TimeSpan timeout, CancellationToken abort)
    {
        Task ready;
        lock (_lock)
        {
            ready = _ready.Task;
        }

        timeout = ServiceProcess.NormalizeTimeout(timeout);
        var began = _time.GetTimestamp();
        while (true)
        {
            if (ready.IsCompletedSuccessfully)
            {
                return ReadyOutcome.Ready;
            }

            if (exited.IsCompleted)
            {
                return ReadyOutcome.Exited;
            }

            if (abort.IsCancellationRequested)
            {
                return ReadyOutcome.Aborted;
            }

            var remaining = Remaining(began, timeout);
            if (remaining <= TimeSpan.Zero)
            {
                return ReadyOutcome.TimedOut;
            }

            using var wake = CancellationTokenSource.CreateLinkedTokenSource(abort);
            var delay = Task.Delay(remaining, _time, wake.Token);
            await Task.WhenAny(ready, exited, delay).ConfigureAwait(false);
            await wake.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Time left of the start timeout: the larger of what the timeout leaves and what an extension asked for.</summary>
    private TimeSpan Remaining(long began, TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var now = _time.GetTimestamp();
        var left = timeout - _time.GetElapsedTime(began, now);
        long extendedUntil;
        lock (_lock)
        {
            extendedUntil = _extendedUntil;
        }

        var extended = extendedUntil > now ? _time.GetElapsedTime(now, extendedUntil) : TimeSpan.Zero;
        var remaining = left > extended ? left : extended;
        return remaining.TotalMilliseconds >= int.MaxValue - 1 ? TimeSpan.FromMilliseconds(int.MaxValue - 1) : remaining;
    }

    /// <summary>
    /// Starts the watchdog of a running service with <c>WatchdogSec=</c>: unless <c>WATCHDOG=1</c> comes within the
    /// interval (each one starts it again), <paramref name="missed"/> is called, once, on a timer thread.
    /// </summary>
    public void ArmWatchdog(TimeSpan interval, Action missed)
    {
        lock (_lock)
        {
            DisarmWatchdogUnderLock();
            _watchdogInterval = interval;
            _onWatchdog = missed;
            _watchdog = _time.CreateTimer(static state => ((ServiceNotifications)state!).WatchdogExpired(), this, interval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The exit, marked as the watchdog's doing when the watchdog killed it.</summary>
    public ProcessExit Annotate(ProcessExit exit)
    {
        lock (_lock)
        {
            return _watchdogFired && !exit.Watchdog ? exit with { Watchdog = true } : exit;
        }
    }

    /// <summary>The launch is over (its main process ended or is being stopped): no watchdog runs.</summary>
    public void End()
    {
        lock (_lock)
        {
            DisarmWatchdogUnderLock();
            _awaitingMain = false;
            _early.Clear();
        }
    }

    public void Dispose()
    {
        End();
        _socket.Dispose();
    }

    private static TaskCompletionSource NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void DisarmWatchdogUnderLock()
    {
        _watchdog?.Dispose();
        _watchdog = null;
        _onWatchdog = null;
    }

    private void WatchdogExpired()
    {
        Action? missed;
        TimeSpan interval;
        lock (_lock)
        {
            missed = _onWatchdog;
            if (missed is null || _watchdogFired)
            {
                return;
            }

            _watchdogFired = true;
            interval = _watchdogInterval;
            DisarmWatchdogUnderLock();
        }

        Log.WatchdogMissed(_logger, _service, interval);
        missed();
    }

    /// <summary>A datagram from <paramref name="pid"/>: checked against <c>NotifyAccess=</c>, then acted on.</summary>
    private void Receive(int pid, uint uid, string text)
    {
        NotifyMessage message;
        lock (_lock)
        {
            if (_awaitingMain)
            {
                if (_early.Count < MaxEarly)
                {
                    _early.Add((pid, uid, text));
                }

                return;
            }

            if (Refusal(pid) is { } reason)
            {
                ReportRefusal(pid, uid, reason);
                return;
            }

            message = NotifyMessage.Parse(text);
            if (message.IsEmpty)
            {
                return;
            }

            Log.Notified(_logger, _service, pid, text.ReplaceLineEndings(" ").Trim());
            Apply(message, pid);
        }

        _changed();
    }

    /// <summary>Why <paramref name="pid"/> may not notify under the unit's <c>NotifyAccess=</c>, or null when it may.</summary>
    private string? Refusal(int pid)
    {
        var main = _namedMainPid ?? _mainPid;
        var access = _unit.EffectiveNotifyAccess;
        return access switch
        {
            NotifyAccess.None => "NotifyAccess=none",
            _ when main == 0 => "the service is not running",
            _ when pid == main || pid == _mainPid => null,
            NotifyAccess.Main => string.Create(CultureInfo.InvariantCulture, $"only the main process (PID {main}) may notify (NotifyAccess=main)"),
            NotifyAccess.Exec when IsControlProcess(pid) => null,
            NotifyAccess.Exec => string.Create(CultureInfo.InvariantCulture, $"only the main process (PID {main}) and the service's control processes may notify (NotifyAccess=exec)"),
            _ when BelongsToService(pid) => null,
            _ => "the sender is not a process of the service (NotifyAccess=all)",
        };
    }

    /// <summary>
    /// A control process (<c>ExecStartPre=</c>, <c>ExecStartPost=</c>, <c>ExecStop=</c>, …): a process of the service
    /// that the daemon spawned itself. Every command is spawned by the daemon and execs in place (the cgroup shim
    /// included), so its parent is the daemon; without a cgroup a control process (its own session) cannot be told
    /// from another service's, so only the main process may notify then.
    /// </summary>
    private bool IsControlProcess(int pid) =>
        _cgroup is not null && ProcStat.TryRead(pid, out var stat) && stat.ParentPid == System.Environment.ProcessId && BelongsToService(pid);

    /// <summary>
    /// Whether <paramref name="pid"/> is a process of the service: in its cgroup (as <c>cgroup.procs</c> lists it,
    /// the kernel's own record of <c>/proc/PID/cgroup</c>); without one, in the main process's session or below it.
    /// </summary>
    internal bool BelongsToService(int pid)
    {
        if (_cgroup is { } cgroup)
        {
            return InCgroup(cgroup, pid);
        }

        if (!_cgroupWarned)
        {
            _cgroupWarned = true;
            Log.NoCgroupForAccess(_logger, _service, _unit.EffectiveNotifyAccess.ToString().ToLowerInvariant());
        }

        return InProcessTree(_mainPid, pid);
    }

    private static bool InCgroup(IServiceCgroup cgroup, int pid)
    {
        // In v1 a process is in one cgroup per hierarchy and the service's processes join all of them; one suffices.
        foreach (var file in cgroup.ProcsFiles.Take(1))
        {
            try
            {
                foreach (var line in File.ReadLines(file))
                {
                    if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var member) && member == pid)
                    {
                        return true;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>In the session the main process leads (every service is spawned as a session leader), or its descendant.</summary>
    internal static bool InProcessTree(int main, int pid)
    {
        if (main <= 0)
        {
            return false;
        }

        for (var (current, depth) = (pid, 0); current > 1 && depth < 64; depth++)
        {
            if (current == main || !ProcStat.TryRead(current, out var stat))
            {
                return current == main;
            }

            if (stat.Session == main)
            {
                return true;
            }

            current = stat.ParentPid;
        }

        return false;
    }

    private void ReportRefusal(int pid, uint uid, string reason)
    {
        var now = _time.GetTimestamp();
        if (_lastRefusalReport != long.MinValue && _time.GetElapsedTime(_lastRefusalReport, now) < RefusalReportInterval)
        {
            _suppressedRefusals++;
            return;
        }

        Log.NotificationRefused(_logger, _service, pid, uid, reason, _suppressedRefusals);
        _lastRefusalReport = now;
        _suppressedRefusals = 0;
    }

    private void Apply(NotifyMessage message, int pid)
    {
        if (message.Status is { } status)
        {
            _statusText = status.Length == 0 ? null : status;
        }

        if (message.MainPid is { } named && named != (_namedMainPid ?? _mainPid))
        {
            if (!ProcStat.TryRead(named, out var stat) || stat.IsDead)
            {
                Log.MainPidRefused(_logger, _service, named, "no such process");
            }
            else if (named != _mainPid && !BelongsToService(named))
            {
                Log.MainPidRefused(_logger, _service, named, "it is not a process of the service");
            }
            else
            {
                _namedMainPid = named == _mainPid ? null : named;
                Log.MainPidChanged(_logger, _service, named);
            }
        }

        if (message.Stopping)
        {
            _stopping = true;
        }

        if (message.Reloading)
        {
            _reloading = true;
        }

        if (message.Ready)
        {
            _reloading = false;
            if (_ready.TrySetResult())
            {
                Log.Ready(_logger, _service, pid);
            }
        }

        if (message.ExtendTimeout is { } extend)
        {
            var until = _time.GetTimestamp() + (long)Math.Min(extend.TotalSeconds * _time.TimestampFrequency, long.MaxValue / 4);
            _extendedUntil = Math.Max(_extendedUntil, until);
        }

        if (message.WatchdogInterval is { } interval)
        {
            _watchdogInterval = interval;
        }

        if (message.WatchdogTrigger && _watchdog is not null)
        {
            _ = _watchdog.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
        else if ((message.WatchdogPing || message.WatchdogInterval is not null) && _watchdog is not null)
        {
            _ = _watchdog.Change(_watchdogInterval, Timeout.InfiniteTimeSpan);
        }
    }
}
