using GitProc.Core.Tests.TestSupport;
using GitProc.Processes;
using GitProc.Supervision;
using GitProc.UnitFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Supervision;

/// <summary>
/// A real supervisor (real process manager, logs, state file) in a temporary directory. Every script a test
/// writes lives in that directory, so "no process survives" is a /proc scan for the directory's path.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class SupervisorHarness : IAsyncDisposable
{
    private readonly List<ServiceProvider> _providers = [];

    public SupervisorHarness()
    {
        Root = Path.Combine(Path.GetTempPath(), "gitproc-sup-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Path.Combine(Root, "repo"));
    }

    public string Root { get; }

    public string StatePath => Path.Combine(Root, "state.json");

    public string LogDirectory => Path.Combine(Root, "logs");

    /// <summary>A new supervisor over the same state file and log directory (a daemon restart).</summary>
    /// <summary>The cgroup root when a test enables cgroups (unique per harness; removed by the supervisor).</summary>
    public string CgroupRoot { get; } = "gitproc-test-" + Guid.NewGuid().ToString("N")[..10];

    /// <param name="cgroups">Whether services get cgroups.</param>
    /// <param name="healthStartPeriod">The health checks' start period (default none).</param>
    /// <param name="cgroupForEveryService">Whether services without limits get a cgroup too.</param>
    /// <param name="configure">Replacements registered before AddGitProc (a time provider, a process manager).</param>
    /// <param name="time">
    /// The supervisor's clock (restart delays, start limits); the processes' own stop timeouts stay on real time, so a
    /// stop never waits for a test to move the fake clock.
    /// </param>
    public ISupervisor CreateSupervisor(
        bool cgroups = false, TimeSpan? healthStartPeriod = null, bool cgroupForEveryService = true, Action<IServiceCollection>? configure = null, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        if (time is not null)
        {
            services.AddSingleton(time);
            services.AddSingleton<IProcessManager>(_ => new ProcessManager());
        }

        configure?.Invoke(services);
        services.AddGitProc(o =>
        {
            o.RepositoryPath = Path.Combine(Root, "repo");
            o.StatePath = StatePath;
            o.LogDirectory = LogDirectory;
            o.SocketPath = Path.Combine(Root, "gitproc.sock");
            o.ResourceControl.Enabled = cgroups;
            o.ResourceControl.CgroupRoot = CgroupRoot;
            o.ResourceControl.CgroupForEveryService = cgroupForEveryService;
            o.Health.StartPeriod = healthStartPeriod ?? TimeSpan.Zero;
        });
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<ISupervisor>();
    }

    /// <summary>The container of the supervisor created last (its event stream, say).</summary>
    public IServiceProvider LastProvider => _providers[^1];

    /// <summary>Writes an executable shell script into the test directory and returns its path.</summary>
    public string Script(string name, string body)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    public string PathOf(string name) => Path.Combine(Root, name);

    public static UnitFile Unit(string name, string text) => UnitFileParser.Parse(name + ".service", text);

    /// <summary>This harness's cgroup root in each hierarchy where it exists (none once the supervisor removed them).</summary>
    public IReadOnlyList<string> CgroupDirectories() =>
        new[] { "memory", "cpu", "cpuacct", "pids", "unified" }
            .Select(c => Path.Combine("/sys/fs/cgroup", c, CgroupRoot))
            .Where(Directory.Exists)
            .ToList();

    /// <summary>Live processes started from this test's directory.</summary>
    public IReadOnlyList<int> Survivors() => ProcScan.FindByCommandLine(Root);

    public static async Task<ServiceSnapshot> WaitForAsync(ISupervisor supervisor, string service, Func<ServiceSnapshot, bool> condition, double seconds = 10)
    {
        ServiceSnapshot status = supervisor.GetStatus(service);
        var ok = await ProcScan.WaitUntilAsync(
            () =>
            {
                status = supervisor.GetStatus(service);
                return condition(status);
            },
            TimeSpan.FromSeconds(seconds));
        Assert.That(ok, Is.True, $"{service} never reached the expected state; last: {status}");
        return status;
    }

    /// <summary>
    /// Waits until the service's supervise loops have ended (its last ending was not restarted, or a command took it
    /// over): from then on nothing happens to it by itself, so a test can assert that nothing did without sleeping.
    /// </summary>
    public static async Task SupervisionEndedAsync(ISupervisor supervisor, string service) =>
        await ((Supervisor)supervisor).SupervisionEnded(service).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>
    /// On a fake clock: waits until the service waits for its restart delay (<c>auto-restart</c>, whose timer is armed by
    /// then), checks that <paramref name="delay"/> less a millisecond does not restart it, then moves the clock the rest
    /// of the way and waits for the restart to begin.
    /// </summary>
    public static async Task RestartsAfterAsync(ISupervisor supervisor, FakeTimeProvider time, string service, TimeSpan delay)
    {
        var waiting = await WaitForAsync(supervisor, service, s => s.SubState == "auto-restart");
        time.Advance(delay - TimeSpan.FromMilliseconds(1));
        var early = supervisor.GetStatus(service);
        Assert.That((early.SubState, early.RestartCount), Is.EqualTo(("auto-restart", waiting.RestartCount)), $"{service} restarted before {delay}");
        time.Advance(TimeSpan.FromMilliseconds(1));
        await WaitForAsync(supervisor, service, s => s.RestartCount == waiting.RestartCount + 1);
    }

    /// <summary>Processes still alive after every supervisor was disposed (set by <see cref="DisposeAsync"/>).</summary>
    public IReadOnlyList<int> LeftAfterDispose { get; private set; } = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        _providers.Clear();

        // Anything left is a bug the test reports; kill it so the run stays clean either way.
        LeftAfterDispose = Survivors();
        foreach (var pid in LeftAfterDispose)
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
