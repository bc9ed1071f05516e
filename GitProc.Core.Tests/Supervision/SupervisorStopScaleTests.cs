using System.Diagnostics;
using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Processes;
using GitProc.State;
using GitProc.Supervision;

namespace GitProc.Core.Tests.Supervision;

/// <summary>
/// Many services stopping at once (daemon shutdown, a commit removing them): every process goes, dependents stop before
/// their dependencies, and the cost is shared rather than paid once per service. The time bound is loose on purpose;
/// the numbers belong to bench/ ("stop" scenario).
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(180_000)]
public sealed class SupervisorStopScaleTests : SupervisorFixture
{
    private const int Services = 300;
    private const int ChainLength = 10;
    private static readonly TimeSpan LooseBound = TimeSpan.FromSeconds(60);

    [Test]
    public async Task Stop_all_with_a_cgroup_per_service_stops_300_services_in_order_without_walking_proc()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: creates real cgroups");
        }

        await using var supervisor = Harness.CreateSupervisor(cgroups: true);
        var walks = await StartAndStopAsync(supervisor, () => supervisor.StopAllAsync());

        Assert.That(walks, Is.Zero, "a service with a cgroup is found through its cgroup; no walk of /proc is needed");
        Assert.That(supervisor.ListServices().Select(s => s.Status), Is.All.EqualTo(ServiceStatus.Stopped));
        Assert.That(
            Harness.CgroupDirectories().SelectMany(Directory.EnumerateDirectories),
            Is.Empty,
            "every service's cgroup is removed when it stops");
    }

    [Test]
    public async Task A_commit_removing_300_services_without_cgroups_stops_them_in_order_sharing_walks_of_proc()
    {
        await using var supervisor = Harness.CreateSupervisor(cgroups: false);
        var walks = await StartAndStopAsync(supervisor, () => supervisor.ApplyAsync([]));

        // Each stop looks at least twice (to signal, to see the tree gone); a walk of its own per look made this
        // O(N²). Shared walks run one at a time, back to back while stops keep asking, so their number follows the
        // stop's duration rather than the number of services.
        Assert.That(walks, Is.LessThan(2 * Services), "stops at the same moment share walks of /proc");
        Assert.That(supervisor.ListServices(), Is.Empty);
    }

    /// <summary>Starts the services, stops them with <paramref name="stop"/>, checks what a user would; returns the walks of /proc the stop made.</summary>
    private async Task<long> StartAndStopAsync(ISupervisor supervisor, Func<Task> stop)
    {
        var order = Harness.PathOf("stop-order");
        var service = Harness.Script("service.sh", $"trap 'echo $1 >> {order}; exit 0' TERM\nsleep 300 &\nwait");

        // Chains of ten: s001 after s000, s002 after s001, …; each chain's head (s000, s010, …) stops last.
        var units = Enumerable.Range(0, Services).Select(i => SupervisorHarness.Unit(
            Name(i),
            (i % ChainLength == 0 ? string.Empty : $"[Unit]\nAfter={Name(i - 1)}\n") + $"[Service]\nExecStart={service} {Name(i)}\n"));
        await supervisor.ApplyAsync([.. units]);

        // Each shell has set its trap once it has forked its sleep.
        Assert.That(
            await ProcScan.WaitUntilAsync(() => Harness.Survivors().Count == 2 * Services, TimeSpan.FromSeconds(60)),
            Is.True,
            $"expected {2 * Services} processes, found {Harness.Survivors().Count}");

        var walksBefore = SharedProcScan.Shared.Walks;
        var stopwatch = Stopwatch.StartNew();
        await stop();
        stopwatch.Stop();
        var walks = SharedProcScan.Shared.Walks - walksBefore;
        TestContext.Out.WriteLine($"{Services} services stopped in {stopwatch.Elapsed.TotalMilliseconds:0} ms with {walks} walk(s) of /proc");

        Assert.That(Harness.Survivors(), Is.Empty, "a process of a stopped service survived");
        Assert.That(stopwatch.Elapsed, Is.LessThan(LooseBound));
        var stopped = File.ReadAllLines(order);
        Assert.That(stopped, Is.EquivalentTo(Enumerable.Range(0, Services).Select(Name)), "every service got its stop signal once");
        var position = stopped.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index);
        for (var i = 0; i < Services; i++)
        {
            if (i % ChainLength != 0)
            {
                Assert.That(position[Name(i)], Is.LessThan(position[Name(i - 1)]), $"{Name(i)} (After={Name(i - 1)}) must stop before {Name(i - 1)}");
            }
        }

        return walks;
    }

    private static string Name(int i) => $"s{i:000}";
}
