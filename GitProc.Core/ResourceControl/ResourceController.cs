using System.Collections.Concurrent;
using System.Runtime.Versioning;
using GitProc.Locking;
using GitProc.UnitFiles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.ResourceControl;

/// <summary>
/// Per-service cgroups (see <see cref="IResourceController"/>). The host is examined once, on first use, by
/// <see cref="CgroupDetector"/>, and the root is then claimed with an exclusive lock held until disposal, so two
/// daemons never share (and sweep) one cgroup root. Disposing the controller removes the root cgroup again if it made it
/// and no service cgroup is left in it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ResourceController : IResourceController, IAsyncDisposable
{
    private const int SigTerm = 15;
    private static readonly TimeSpan SweepPollInterval = TimeSpan.FromMilliseconds(20);

    private readonly ResourceControlOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ResourceController> _logger;
    private readonly Lazy<CgroupLayout> _layout;
    private readonly ConcurrentDictionary<string, bool> _warnedServices = new(StringComparer.Ordinal);
    private ExclusiveLock? _rootLock;
    private LockHeldException? _rootHeld;

    public ResourceController(IOptions<ResourceControlOptions> options, TimeProvider timeProvider, ILogger<ResourceController>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger ?? NullLogger<ResourceController>.Instance;
        _layout = new Lazy<CgroupLayout>(Detect, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ResourceControlStatus Status => _layout.Value.Status;

    /// <summary>The lock on the cgroup root, once claimed (<see langword="null"/> when cgroups are not in use).</summary>
    internal ExclusiveLock? RootLock => _rootLock;

    /// <summary>
    /// Examines the host and claims the cgroup root now rather than at the first service start: the daemon calls it at
    /// start-up, before it touches anything else, so a second daemon on the same root stops there.
    /// </summary>
    /// <exception cref="LockHeldException">Another process holds the cgroup root; the message names it and what to do.</exception>
    internal void ClaimRoot()
    {
        _ = _layout.Value;
        if (_rootHeld is { } held)
        {
            throw new LockHeldException(held.Path, held.LockPath, held.HolderPid, held.Message);
        }
    }

    public Task<IServiceCgroup?> CreateAsync(string service, ResourceLimits limits, CancellationToken cancellationToken = default) =>
        CreateAsync(service, limits, killLeftovers: true, cancellationToken);

    public Task<IServiceCgroup?> AttachAsync(string service, ResourceLimits limits, CancellationToken cancellationToken = default) =>
        CreateAsync(service, limits, killLeftovers: false, cancellationToken);

    private async Task<IServiceCgroup?> CreateAsync(string service, ResourceLimits limits, bool killLeftovers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (!IsValidName(service))
        {
            throw new ArgumentException(
                $"'{service}' is not a valid service name for a cgroup: use only A-Z, a-z, 0-9, ':', '_', '.', '@' and '-', not starting with '.'.",
                nameof(service));
        }

        var layout = _layout.Value;
        if (!layout.Status.Enforced)
        {
            if (limits.HasAny && _warnedServices.TryAdd(service, true))
            {
                Log.ServiceLimitsNotEnforced(_logger, service, limits, layout.Status.Reason ?? "no cgroup backend");
            }

            return null;
        }

        var cgroup = NewCgroup(layout, service, limits);

        var existed = false;
        foreach (var directory in cgroup.Directories)
        {
            existed |= Directory.Exists(directory);
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ResourceControlException(
                    service, directory, $"Cannot create the cgroup of service {service}: creating {directory} failed: {ex.Message}", ex);
            }
        }

        try
        {
            if (existed && killLeftovers)
            {
                // Left by a daemon that died without stopping the service: its processes are orphans that would
                // otherwise run beside the new start.
                var leftovers = await cgroup.GetPidsAsync(cancellationToken).ConfigureAwait(false);
                if (leftovers.Count > 0)
                {
                    await cgroup.KillAndWaitUntilEmptyAsync(cancellationToken).ConfigureAwait(false);
                    Log.LeftoversKilled(_logger, service, leftovers.Count);
                }
            }

            await cgroup.ApplyLimitsAsync(limits, cancellationToken).ConfigureAwait(false);
            await cgroup.StartCpuWindowAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await RemoveQuietlyAsync(cgroup).ConfigureAwait(false);
            throw;
        }

        Log.Created(_logger, service, string.Join(", ", cgroup.Directories), limits);
        return cgroup;
    }

    public async Task<IReadOnlyList<SweptCgroup>> SweepAsync(IReadOnlySet<string> keep, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var layout = _layout.Value;
        if (!layout.Status.Enforced)
        {
            return [];
        }

        // A service's cgroup has a directory in each hierarchy; one missing in some (a daemon killed mid-creation)
        // is still found through the others.
        var roots = RootDirectories(layout);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            try
            {
                names.UnionWith(Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>());
            }
            catch (DirectoryNotFoundException)
            {
            }
        }

        names.ExceptWith(keep);
        var swept = await Task.WhenAll(names.Where(IsValidName).Select(name => SweepOneAsync(layout, name, cancellationToken))).ConfigureAwait(false);
        return swept;
    }

    private async Task<SweptCgroup> SweepOneAsync(CgroupLayout layout, string service, CancellationToken cancellationToken)
    {
        var cgroup = NewCgroup(layout, service, ResourceLimits.None);
        var pids = await cgroup.GetPidsAsync(cancellationToken).ConfigureAwait(false);
        if (pids.Count > 0)
        {
            // Leftovers get the stop every service gets by default: SIGTERM, time to finish, then SIGKILL (by the removal).
            await cgroup.KillAllAsync(SigTerm, cancellationToken).ConfigureAwait(false);
            var start = _timeProvider.GetTimestamp();
            while ((await cgroup.GetPidsAsync(cancellationToken).ConfigureAwait(false)).Count > 0
                && _timeProvider.GetElapsedTime(start) < _options.RemoveTimeout)
            {
                await Task.Delay(SweepPollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }

        await cgroup.RemoveAsync(cancellationToken).ConfigureAwait(false);
        return new SweptCgroup(service, pids);
    }

    private ServiceCgroup NewCgroup(CgroupLayout layout, string service, ResourceLimits limits) =>
        layout.Status.Backend == ResourceControlBackend.V2
            ? new V2ServiceCgroup(service, Path.Combine(layout.Unified!, service), limits, _options.RemoveTimeout, _timeProvider, _logger)
            : new V1ServiceCgroup(
                service,
                Path.Combine(layout.Memory!, service),
                Path.Combine(layout.Cpu!, service),
                layout.CpuAcct is null ? null : Path.Combine(layout.CpuAcct, service),
                Path.Combine(layout.Pids!, service),
                limits,
                _options.RemoveTimeout,
                _timeProvider,
                _logger);

    /// <summary>Removes the root cgroup directories the detection created, where no service cgroup is left in them.</summary>
    public ValueTask DisposeAsync()
    {
        if (_layout.IsValueCreated && _layout.Value.Status.Enforced)
        {
            // The root goes too when a daemon that died left it (no service cgroup is left in it by now); removing
            // runs in reverse, so those leaves go before the directories this run created.
            var layout = _layout.Value;
            var roots = RootDirectories(layout).Except(layout.CreatedDirectories, StringComparer.Ordinal);
            CgroupDetector.RemoveCreated([.. layout.CreatedDirectories, .. roots]);
        }

        // Released last: until the root is removed, it is still ours.
        _rootLock?.Dispose();
        return ValueTask.CompletedTask;
    }

    private static IEnumerable<string> RootDirectories(CgroupLayout layout) =>
        layout.Status.Backend == ResourceControlBackend.V2
            ? [layout.Unified!]
            : new[] { layout.Memory, layout.Cpu, layout.CpuAcct, layout.Pids }.OfType<string>();

    /// <summary>The rule for service names; the name becomes a directory, so it must stay one component.</summary>
    internal static bool IsValidName(string? name) => UnitFileParser.IsValidServiceName(name);

    private static async Task RemoveQuietlyAsync(ServiceCgroup cgroup)
    {
        try
        {
            await cgroup.RemoveAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ResourceControlException or IOException)
        {
            // The original error is the one worth reporting; a cgroup left behind is taken over at the next start.
        }
    }

    private CgroupLayout Detect()
    {
        var layout = CgroupDetector.Detect(_options);
        if (layout.Status.Enforced)
        {
            try
            {
                _rootLock = CgroupRootLock.Acquire(layout.Unified ?? layout.Memory!, _logger);
            }
            catch (Exception ex) when (ex is LockHeldException or ResourceControlException)
            {
                // Services of an embedding application still run, without cgroups; the daemon refuses to start
                // (ClaimRoot) rather than run beside another one.
                _rootHeld = ex as LockHeldException;
                CgroupDetector.RemoveCreated(layout.CreatedDirectories);
                layout = CgroupLayout.NotEnforced(ex.Message);
            }
        }

        if (layout.Status.Enforced)
        {
            Log.Enforced(_logger, layout.Status);
        }
        else if (_rootHeld is null)
        {
            // A held root is the daemon's refusal to start (ClaimRoot), not a warning; Status says it to others.
            Log.NotEnforced(_logger, layout.Status.Reason!);
        }

        return layout;
    }
}
