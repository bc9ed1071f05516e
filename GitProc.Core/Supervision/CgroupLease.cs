using GitProc.Events;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>
/// One service's hold on its cgroup: made before its first process starts, kept across automatic restarts, released
/// when the service stops. While held, the cgroup's OOM kills are watched (<see cref="OomWatch"/>), counted per run,
/// reported, and used to classify how a run ended; its usage is read for status through a short cache.
/// </summary>
internal sealed class CgroupLease
{
    private static readonly TimeSpan UsageMaxAge = TimeSpan.FromSeconds(1);

    private readonly SupervisorContext _context;
    private readonly string _service;
    private readonly Func<long, CancellationToken, Task> _onOomKills;
    private readonly Lock _sync = new();

    private IServiceCgroup? _cgroup;
    private OomWatch? _oom;
    private string? _limitsNote;

    // OOM kills seen since the current main process (or oneshot run) was launched.
    private long _runOomKills;
    private (IServiceCgroup Cgroup, long Timestamp, ResourceUsage Usage)? _usage;

    /// <param name="context">What the supervisor's services share (the resource controller, time, logs).</param>
    /// <param name="service">The service's name, for logs.</param>
    /// <param name="onOomKills">Called by the OOM watch with the number of kills it found while the service runs.</param>
    public CgroupLease(SupervisorContext context, string service, Func<long, CancellationToken, Task> onOomKills)
    {
        _context = context;
        _service = service;
        _onOomKills = onOomKills;
    }

    /// <summary>The service's cgroup while held; <see langword="null"/> without one.</summary>
    public IServiceCgroup? Cgroup => Volatile.Read(ref _cgroup);

    /// <summary>Why the unit's limits are not enforced (no cgroup could be had), or null.</summary>
    public string? LimitsNote => Volatile.Read(ref _limitsNote);

    /// <summary>
    /// Gives the service its cgroup before its first process starts (by default every service gets one where
    /// cgroups work, limits or not, so a stop reaches every process it ever forked). Where cgroups cannot be used
    /// the service still runs and <see cref="LimitsNote"/> says its limits are not enforced. Does nothing while held.
    /// </summary>
    /// <param name="unit">The unit, whose limits the cgroup gets.</param>
    /// <param name="adopting">Taking a running process over: what runs in its cgroup stays.</param>
    /// <exception cref="GitProcException">The daemon is short of resources (<see cref="ResourceShortage.Is"/>): retry later.</exception>
    public async Task AcquireAsync(UnitFile unit, bool adopting = false)
    {
        if (_cgroup is not null || _context.Resources is not { } resources)
        {
            return;
        }

        var limits = ResourceLimits.From(unit);
        if (!limits.HasAny && !_context.CgroupForEveryService)
        {
            return;
        }

        try
        {
            // Taking a process over keeps what runs in its cgroup; a fresh start clears out what a dead daemon left.
            var cgroup = adopting
                ? await resources.AttachAsync(unit.Name, limits).ConfigureAwait(false)
                : await resources.CreateAsync(unit.Name, limits).ConfigureAwait(false);
            Volatile.Write(ref _cgroup, cgroup);
            Volatile.Write(ref _limitsNote, cgroup is null && limits.HasAny ? $"limits not enforced: {resources.Status.Reason}" : null);
        }
        catch (GitProcException ex) when (!ResourceShortage.Is(ex))
        {
            Volatile.Write(ref _limitsNote, $"limits not enforced: {ex.Message}");
            _context.Logger.ServiceFailed(_service, _limitsNote!);
        }

        if (_cgroup is not null)
        {
            // Polled only where the unit sets a memory limit, the cgroup's own OOM kills: a hundred unlimited services
            // would otherwise cost an idle daemon hundreds of file reads a second. A kill by the system-wide OOM killer
            // in an unlimited service is still found by the read when its main process ends.
            var poll = unit.MemoryLimit is null ? TimeSpan.Zero : _context.OomPollInterval;
            _oom = await OomWatch.StartAsync(_cgroup, poll, _context.Time, _onOomKills).ConfigureAwait(false);
        }
    }

    /// <summary>Whether processes still run in the cgroup (what <c>KillMode=process</c> left behind).</summary>
    public async Task<bool> HoldsProcessesAsync()
    {
        try
        {
            return _cgroup is { } cgroup && (await cgroup.GetPidsAsync().ConfigureAwait(false)).Count > 0;
        }
        catch (Exception ex) when (ex is IOException or GitProcException)
        {
            return false;
        }
    }

    /// <summary>Removes the cgroup (and stops watching it); a failure is logged, the service goes on without it.</summary>
    public async Task ReleaseAsync()
    {
        if (_cgroup is not { } cgroup)
        {
            return;
        }

        Volatile.Write(ref _cgroup, null);
        _oom?.Dispose();
        _oom = null;
        try
        {
            await cgroup.DisposeAsync().ConfigureAwait(false);
        }
        catch (GitProcException ex)
        {
            _context.Logger.ServiceFailed(_service, ex.Message);
        }
    }

    /// <summary>A new run (main process or oneshot) is launched: its OOM kills are counted from zero.</summary>
    public void BeginRun()
    {
        lock (_sync)
        {
            _runOomKills = 0;
        }
    }

    /// <summary>Adds kills the watch found to this run's count; returns the run's total.</summary>
    public long CountKills(long kills)
    {
        lock (_sync)
        {
            _runOomKills += kills;
            return _runOomKills;
        }
    }

    /// <summary>
    /// Recognises an OOM kill when the process ended: the main process killed by SIGKILL while the cgroup's OOM-kill
    /// counter went up (whatever <c>OOMPolicy=</c> says), or, unless the policy is <c>continue</c>, any OOM kill in the
    /// cgroup since this run was launched (a shell whose child was killed exits 137: the service ran out of memory).
    /// </summary>
    public async Task<ProcessExit> ClassifyEndAsync(UnitFile unit, ProcessExit exit)
    {
        if (await TakeNewKillsAsync().ConfigureAwait(false) is not { } fresh)
        {
            return exit;
        }

        var kills = CountKills(fresh);
        if (fresh > 0)
        {
            ReportKills(unit, fresh, pid: null);
        }

        return kills > 0 && (exit.Signal == 9 || unit.OomPolicy != OomPolicy.Continue) ? exit with { OomKilled = true } : exit;
    }

    /// <summary>Logs, counts and publishes OOM kills in the service's cgroup, saying what its <c>OOMPolicy=</c> does about them.</summary>
    public void ReportKills(UnitFile unit, long kills, int? pid)
    {
        var action = unit.OomPolicy switch
        {
            OomPolicy.Continue => "OOMPolicy=continue: the service keeps running",
            OomPolicy.Kill => "OOMPolicy=kill: every process of the service is killed",
            _ => "OOMPolicy=stop: the service is stopped",
        };
        var reason = $"{OomWatch.Reason(unit)}: the OOM killer killed {kills} process(es) of the service; {action}";
        _context.Logger.ServiceOomKilled(_service, reason);
        _context.Metrics?.ServiceOomKilled(_service, kills);
        _context.Events?.Publish(new GitProcEvent { Type = EventTypes.ServiceOomKill, Service = _service, Pid = pid, Reason = reason });
    }

    /// <summary>The OOM watch's next poll (<see cref="OomWatch.NextPoll"/>); null while the cgroup's kills are not polled.</summary>
    internal Task? NextOomPoll => _oom?.NextPoll;

    /// <summary>The kills not yet handed out by the watch (each is handed out once); null without a watch.</summary>
    private async Task<long?> TakeNewKillsAsync() =>
        _oom is { } oom ? await oom.TakeNewKillsAsync().ConfigureAwait(false) : null;

    /// <summary>
    /// The cgroup's usage, or null where the service has no cgroup. A reading is reused for up to
    /// <see cref="UsageMaxAge"/>: status can be asked thousands of times a second (scripts, exporters), reading the
    /// cgroup files each time would cost more than the rest of the request, and a CPU percentage over a few
    /// microseconds says nothing.
    /// </summary>
    public async Task<ResourceUsage?> GetUsageAsync(CancellationToken cancellationToken)
    {
        var cgroup = Cgroup;
        if (cgroup is null)
        {
            return null;
        }

        var now = _context.Time.GetTimestamp();
        lock (_sync)
        {
            if (_usage is { } cached && cached.Cgroup == cgroup && _context.Time.GetElapsedTime(cached.Timestamp, now) < UsageMaxAge)
            {
                return cached.Usage;
            }
        }

        try
        {
            var usage = await cgroup.GetUsageAsync(cancellationToken).ConfigureAwait(false);
            lock (_sync)
            {
                _usage = (cgroup, now, usage);
            }

            return usage;
        }
        catch (GitProcException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
