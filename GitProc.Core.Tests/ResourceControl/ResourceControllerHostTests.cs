using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.UnitFiles;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.ResourceControl;

/// <summary>
/// The controller on this host's real cgroups (v1 on the hybrid development machines, v2 where the unified hierarchy
/// has the controllers), as root, under a root cgroup unique to the run that the teardown removes.
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class ResourceControllerHostTests
{
    private const string Mount = "/sys/fs/cgroup";
    private const int SigKill = 9;
    private const int SigTerm = 15;

    private readonly List<Process> _processes = [];
    private readonly List<IServiceCgroup> _cgroups = [];
    private readonly HashSet<int> _seenPids = [];
    private ResourceController _controller = null!;
    private string _root = null!;

    [SetUp]
    public void SetUp()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: creates cgroups under /sys/fs/cgroup");
        }

        _processes.Clear();
        _cgroups.Clear();
        _seenPids.Clear();
        _root = "gitproc-test-" + Guid.NewGuid().ToString("N")[..12];
        _controller = CreateController(_root);
        if (!_controller.Status.Enforced)
        {
            Assert.Ignore($"cgroups are not usable on this host: {_controller.Status.Reason}");
        }
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_controller is null)
        {
            return;
        }

        foreach (var process in _processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);

                // SIGKILL takes effect asynchronously: wait, so the check below does not see a process still dying.
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            process.Dispose();
        }

        var failures = new List<string>();
        foreach (var cgroup in _cgroups)
        {
            try
            {
                await cgroup.DisposeAsync();
            }
            catch (ResourceControlException ex)
            {
                failures.Add(ex.Message);
            }
        }

        await _controller.DisposeAsync();

        // Whatever a failed test left is listed, then cleaned up, so one failure does not leave cgroups behind.
        var left = Directory.EnumerateDirectories(Mount)
            .Select(hierarchy => Path.Combine(hierarchy, _root))
            .Append(Path.Combine(Mount, _root))
            .Where(Directory.Exists)
            .ToList();
        foreach (var directory in left)
        {
            foreach (var child in Directory.EnumerateDirectories(directory))
            {
                Directory.Delete(child);
            }

            Directory.Delete(directory);
        }

        var alive = _seenPids.Where(CgroupTestProcess.IsAlive).ToList();
        _processes.Clear();
        _cgroups.Clear();
        _seenPids.Clear();
        Assert.That(failures, Is.Empty, "cgroups that could not be removed");
        Assert.That(left, Is.Empty, "cgroups left behind");
        Assert.That(alive, Is.Empty, "processes left behind");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task A_process_started_through_the_join_shim_is_in_every_hierarchy_with_what_it_forks(CancellationToken cancellationToken)
    {
        var cgroup = await CreateAsync("shim", ResourceLimits.None);
        var unit = UnitFileParser.Parse("shim.service", "[Service]\nExecStart=/bin/sh -c 'sleep 301 & exec sleep 300'\n");
        await using var manager = new ProcessManager();
        var process = await manager.StartAsync(
            new ProcessLaunch(unit, unit.ExecStartCommands[0]) { CgroupProcsFiles = cgroup.ProcsFiles, CgroupJoinFiles = cgroup.JoinFiles },
            cancellationToken);
        try
        {
            _seenPids.Add(process.Info.Pid);
            Assert.That(await WaitForPidsAsync(cgroup, pids => pids.Count == 2 && pids.Contains(process.Info.Pid)), Is.True, "the process and its child are in the cgroup");
            foreach (var procs in cgroup.ProcsFiles)
            {
                Assert.That(File.ReadAllText(procs), Does.Contain(process.Info.Pid.ToString(CultureInfo.InvariantCulture)), procs);
            }

            if (cgroup.Backend == ResourceControlBackend.V1)
            {
                // Joining through tasks moves the shim's only thread, without the global lock cgroup.procs takes.
                Assert.That(cgroup.JoinFiles, Has.All.EndsWith("/tasks"));
            }
        }
        finally
        {
            await process.StopAsync(SigKill, TimeSpan.FromSeconds(5));
            await process.DisposeAsync();
        }
    }

    [Test]
    public async Task Create_writes_every_limit_in_every_hierarchy_and_remove_deletes_the_directories()
    {
        var cgroup = await CreateAsync("web", new ResourceLimits(100L * 1024 * 1024, 50, 10));

        Assert.That(cgroup.Backend, Is.EqualTo(_controller.Status.Backend));
        Assert.That(cgroup.Directories, Has.All.Matches<string>(Directory.Exists));
        Assert.That(cgroup.ProcsFiles, Has.All.Matches<string>(File.Exists));
        Assert.That(ReadLimit(cgroup, "memory"), Is.EqualTo("104857600"));
        Assert.That(ReadLimit(cgroup, "cpu"), Is.EqualTo("50000 100000"));
        Assert.That(ReadLimit(cgroup, "pids"), Is.EqualTo("10"));
        if (cgroup.Backend == ResourceControlBackend.V1)
        {
            Assert.That(cgroup.ProcsFiles, Has.Some.StartsWith($"{Mount}/memory/{_root}/web/"));
            Assert.That(cgroup.ProcsFiles, Has.Some.StartsWith($"{Mount}/pids/{_root}/web/"));
        }

        await cgroup.RemoveAsync();

        Assert.That(cgroup.Directories, Has.None.Matches<string>(Directory.Exists));
    }

    [Test]
    public async Task Limits_can_be_changed_and_cleared()
    {
        var cgroup = await CreateAsync("api", ResourceLimits.None);
        Assert.That(ReadLimit(cgroup, "memory"), Is.EqualTo("max"));
        Assert.That(ReadLimit(cgroup, "cpu"), Is.EqualTo("max 100000"));
        Assert.That(ReadLimit(cgroup, "pids"), Is.EqualTo("max"));

        await cgroup.UpdateLimitsAsync(new ResourceLimits(64L * 1024 * 1024, 150, 32));
        Assert.That(ReadLimit(cgroup, "memory"), Is.EqualTo("67108864"));
        Assert.That(ReadLimit(cgroup, "cpu"), Is.EqualTo("150000 100000"));
        Assert.That(ReadLimit(cgroup, "pids"), Is.EqualTo("32"));
        Assert.That(cgroup.Limits, Is.EqualTo(new ResourceLimits(64L * 1024 * 1024, 150, 32)));

        await cgroup.UpdateLimitsAsync(ResourceLimits.None);
        Assert.That(ReadLimit(cgroup, "memory"), Is.EqualTo("max"));
        Assert.That(ReadLimit(cgroup, "cpu"), Is.EqualTo("max 100000"));
        Assert.That(ReadLimit(cgroup, "pids"), Is.EqualTo("max"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task A_process_joining_through_the_shim_and_its_children_are_in_the_cgroup(CancellationToken cancellationToken)
    {
        var cgroup = await CreateAsync("joined", ResourceLimits.None);
        var process = Start(cgroup, "sleep 300 & sleep 300");

        Assert.That(await WaitForPidsAsync(cgroup, pids => pids.Count >= 2 && pids.Contains(process.Id)), Is.True);
        var usage = await cgroup.GetUsageAsync(cancellationToken);
        Assert.That(usage.TaskCount, Is.GreaterThanOrEqualTo(2));
        Assert.That(usage.MemoryBytes, Is.GreaterThan(0));
        Assert.That(usage.CpuTime, Is.GreaterThan(TimeSpan.Zero));

        await cgroup.RemoveAsync(cancellationToken);
        Assert.That(await WaitForExitAsync(process), Is.True);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_service_allocating_past_MemoryMax_is_OOM_killed_and_the_kill_is_counted(CancellationToken cancellationToken)
    {
        var cgroup = await CreateAsync("hog", new ResourceLimits(50L * 1024 * 1024, null, null));
        Assert.That(await cgroup.GetOomKillCountAsync(cancellationToken), Is.Zero);

        // tail keeps the whole "line" of an endless newline-free stream in memory: it grows until it is killed.
        var process = Start(cgroup, "exec tail /dev/zero");

        Assert.That(await WaitForExitAsync(process, TimeSpan.FromSeconds(45)), Is.True, "tail was not killed");
        Assert.That(process.ExitCode, Is.EqualTo(128 + SigKill), "tail must die of SIGKILL");
        Assert.That(await cgroup.GetOomKillCountAsync(cancellationToken), Is.GreaterThan(0));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_busy_loop_with_CPUQuota_20_percent_uses_at_most_about_a_quarter_of_a_core(CancellationToken cancellationToken)
    {
        var cgroup = await CreateAsync("spin", new ResourceLimits(null, 20, null));
        var process = Start(cgroup, "while :; do :; done");
        Assert.That(await WaitForPidsAsync(cgroup, pids => pids.Contains(process.Id)), Is.True);

        var before = await cgroup.GetUsageAsync(cancellationToken);
        var wall = Stopwatch.StartNew();

        // Measured over ten of the kernel's 100 ms quota periods in which it throttled the loop: its own record that the
        // quota is at work, and a window long enough for the share, instead of a fixed sleep.
        Assert.That(await CgroupTestProcess.WaitUntilAsync(() => Task.FromResult(ThrottledPeriods(cgroup) >= 10), TimeSpan.FromSeconds(30)), Is.True, "the loop was never throttled");
        var after = await cgroup.GetUsageAsync(cancellationToken);
        wall.Stop();

        var share = (after.CpuTime!.Value - before.CpuTime!.Value).TotalSeconds / wall.Elapsed.TotalSeconds;
        Assert.That(share, Is.LessThanOrEqualTo(0.35), "the quota was not enforced");
        Assert.That(share, Is.GreaterThan(0.02), "the loop did not run at all");
        Assert.That(after.CpuPercent, Is.InRange(2.0, 35.0));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task TasksMax_stops_a_fork_bomb(CancellationToken cancellationToken)
    {
        var cgroup = await CreateAsync("forks", new ResourceLimits(null, null, 10));
        var process = Start(cgroup, "for i in $(seq 50); do sleep 300 & done; wait");

        // The shell gives up at the first fork the kernel refuses; its sleeps stay in the cgroup.
        Assert.That(await WaitForExitAsync(process, TimeSpan.FromSeconds(30)), Is.True, "the shell did not hit the limit");
        var pids = await cgroup.GetPidsAsync(cancellationToken);
        _seenPids.UnionWith(pids);
        var usage = await cgroup.GetUsageAsync(cancellationToken);

        Assert.That(process.ExitCode, Is.Not.Zero);
        Assert.That(usage.TaskCount, Is.LessThanOrEqualTo(10));
        Assert.That(pids, Has.Count.InRange(1, 10));
        var events = File.ReadAllText(Path.Combine(PidsDirectory(cgroup), "pids.events"));
        Assert.That(events, Does.Match(@"max [1-9]"), "no fork was refused");

        await cgroup.RemoveAsync(cancellationToken);
        Assert.That(pids.Where(CgroupTestProcess.IsAlive), Is.Empty);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task KillAll_stops_a_process_that_double_forked_into_its_own_session(CancellationToken cancellationToken)
    {
        var cgroup = await CreateAsync("escape", ResourceLimits.None);
        var process = Start(cgroup, "setsid sh -c 'sleep 300 &'; sleep 300");
        var session = CgroupTestProcess.SessionOf(process.Id);

        int escapee = 0;
        Assert.That(
            await WaitForPidsAsync(cgroup, pids =>
            {
                escapee = pids.FirstOrDefault(pid => CgroupTestProcess.SessionOf(pid) is var s && s != session && s != -1 && CgroupTestProcess.CommandOf(pid) == "sleep");
                return escapee != 0;
            }),
            Is.True,
            "the escapee did not start");

        await cgroup.KillAllAsync(SigTerm, cancellationToken);

        Assert.That(await WaitForPidsAsync(cgroup, pids => pids.Count == 0), Is.True, "processes survived SIGTERM");
        Assert.That(CgroupTestProcess.IsAlive(escapee), Is.False);
        Assert.That(await WaitForExitAsync(process), Is.True);
        Assert.That(process.ExitCode, Is.EqualTo(128 + SigTerm));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Remove_kills_processes_that_ignore_SIGTERM_and_forks_then_removes_the_cgroup(CancellationToken cancellationToken)
    {
        var cgroup = await CreateAsync("stubborn", ResourceLimits.None);
        var process = Start(cgroup, "trap '' TERM; (trap '' TERM; setsid sleep 300 & sleep 300) & sleep 300");
        Assert.That(await WaitForPidsAsync(cgroup, pids => pids.Count >= 4), Is.True);

        await cgroup.RemoveAsync(cancellationToken);

        Assert.That(cgroup.Directories, Has.None.Matches<string>(Directory.Exists));
        Assert.That(await cgroup.GetPidsAsync(cancellationToken), Is.Empty);
        Assert.That(await WaitForExitAsync(process), Is.True);
        Assert.That(_seenPids.Where(CgroupTestProcess.IsAlive), Is.Empty);

        await cgroup.RemoveAsync(cancellationToken);
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Creating_a_cgroup_that_still_holds_processes_kills_them(CancellationToken cancellationToken)
    {
        var first = await CreateAsync("again", ResourceLimits.None);
        var process = Start(first, "sleep 300");
        Assert.That(await WaitForPidsAsync(first, pids => pids.Contains(process.Id)), Is.True);

        var second = await CreateAsync("again", new ResourceLimits(null, null, 5));

        Assert.That(await second.GetPidsAsync(cancellationToken), Is.Empty);
        Assert.That(await WaitForExitAsync(process), Is.True);
        Assert.That(ReadLimit(second, "pids"), Is.EqualTo("5"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task A_running_process_added_by_pid_is_in_every_hierarchy_until_the_cgroup_is_removed(CancellationToken cancellationToken)
    {
        var cgroup = await CreateAsync("adopted", ResourceLimits.None);
        var sleep = StartOutside();
        Assert.That(await cgroup.GetPidsAsync(cancellationToken), Is.Empty);

        await cgroup.AddProcessAsync(sleep.Id, cancellationToken);

        Assert.That(await cgroup.GetPidsAsync(cancellationToken), Is.EqualTo(new[] { sleep.Id }));
        Assert.That(CgroupsOf(sleep.Id).Count(path => path.EndsWith($"/{_root}/adopted", StringComparison.Ordinal)), Is.EqualTo(cgroup.Directories.Count), "one membership per hierarchy");
        Assert.That((await cgroup.GetUsageAsync(cancellationToken)).TaskCount, Is.EqualTo(1));

        await cgroup.RemoveAsync(cancellationToken);
        Assert.That(await WaitForExitAsync(sleep), Is.True, "removing the cgroup kills what was added to it");
    }

    [Test]
    public async Task Adding_a_process_that_has_exited_fails_naming_its_pid()
    {
        var cgroup = await CreateAsync("gone", ResourceLimits.None);
        using var exited = Process.Start("/bin/true")!;
        await exited.WaitForExitAsync();

        var error = Assert.ThrowsAsync<ResourceControlException>(() => cgroup.AddProcessAsync(exited.Id));

        Assert.That(error!.Message, Does.Contain($"Cannot add process {exited.Id} to the cgroup of service gone: there is no process {exited.Id}"));
        Assert.That(error.Service, Is.EqualTo("gone"));
        Assert.That(await cgroup.GetPidsAsync(), Is.Empty);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task Adding_to_a_removed_cgroup_fails_and_leaves_the_process_where_it_was(bool removedByItsOwner)
    {
        var cgroup = await CreateAsync("removed", ResourceLimits.None);
        var sleep = StartOutside();
        var before = CgroupsOf(sleep.Id);
        if (removedByItsOwner)
        {
            await cgroup.RemoveAsync();
        }
        else
        {
            // Behind its back: an operator's rmdir.
            foreach (var directory in cgroup.Directories)
            {
                Directory.Delete(directory);
            }
        }

        var error = Assert.ThrowsAsync<ResourceControlException>(() => cgroup.AddProcessAsync(sleep.Id));

        Assert.That(error!.Message, Does.Contain($"Cannot add process {sleep.Id} to the cgroup of service removed: the cgroup was removed"));
        Assert.That(CgroupsOf(sleep.Id), Is.EqualTo(before));
        Assert.That(cgroup.Directories, Has.None.Matches<string>(Directory.Exists), "nothing was created again");
    }

    [Test]
    public async Task A_move_refused_for_lack_of_permission_says_what_it_takes()
    {
        var cgroup = await CreateAsync("refused", ResourceLimits.None);
        var sleep = StartOutside();
        Exception? caught = null;

        // A thread of its own whose file-system uid is nobody's: the kernel drops CAP_DAC_OVERRIDE for that thread
        // alone, so opening cgroup.procs (root's, mode 0644) is refused for real while the test stays root. The call
        // fails before its first await, so it never leaves the thread.
        var thread = new Thread(() =>
        {
            var previous = SetFsUid(65534);
            try
            {
                cgroup.AddProcessAsync(sleep.Id).GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                caught = ex;
            }
            finally
            {
                SetFsUid((uint)previous);
            }
        });
        thread.Start();
        thread.Join();

        Assert.That(caught, Is.TypeOf<ResourceControlException>());
        Assert.That(caught!.Message, Does.Contain($"Cannot add process {sleep.Id} to the cgroup of service refused: writing to {cgroup.ProcsFiles[0]} was refused"));
        Assert.That(caught.Message, Does.Contain("takes root"));
        Assert.That(await cgroup.GetPidsAsync(), Is.Empty);
    }

    [Test]
    public async Task The_calling_process_and_pids_below_one_are_refused()
    {
        var cgroup = await CreateAsync("self", ResourceLimits.None);

        Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cgroup.AddProcessAsync(0));
        var error = Assert.ThrowsAsync<ArgumentException>(() => cgroup.AddProcessAsync(Environment.ProcessId));
        Assert.That(error!.Message, Does.Contain("calling process"));
        Assert.That(await cgroup.GetPidsAsync(), Is.Empty);
    }

    [DllImport("libc", EntryPoint = "setfsuid")]
    private static extern int SetFsUid(uint fsuid);

    /// <summary>The cgroup paths of <paramref name="pid"/>, one per hierarchy (/proc/PID/cgroup's third field).</summary>
    private static string[] CgroupsOf(int pid) =>
        File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cgroup").Select(line => line.Split(':', 3)[2]).ToArray();

    private static ResourceController CreateController(string root) =>
        new(
            Options.Create(new GitProcOptions { ResourceControl = { CgroupRoot = root, CgroupMountPoint = Mount } }),
            TimeProvider.System,
            new FakeLogger<ResourceController>());

    /// <summary>A limit in v2 syntax, whichever backend wrote it (v1's "no limit" values read as "max").</summary>
    private static string ReadLimit(IServiceCgroup cgroup, string controller)
    {
        string Read(string file) => File.ReadAllText(cgroup.Directories.Select(d => Path.Combine(d, file)).First(File.Exists)).Trim();

        if (cgroup.Backend == ResourceControlBackend.V2)
        {
            return Read(controller switch { "memory" => "memory.max", "cpu" => "cpu.max", _ => "pids.max" });
        }

        switch (controller)
        {
            case "memory":
                var bytes = long.Parse(Read("memory.limit_in_bytes"), CultureInfo.InvariantCulture);
                return bytes >= long.MaxValue - 4096 * 2 ? "max" : bytes.ToString(CultureInfo.InvariantCulture);
            case "cpu":
                var quota = Read("cpu.cfs_quota_us");
                return $"{(quota == "-1" ? "max" : quota)} {Read("cpu.cfs_period_us")}";
            default:
                return Read("pids.max");
        }
    }

    /// <summary>The quota periods in which the kernel throttled the cgroup (<c>nr_throttled</c> in v1's and v2's <c>cpu.stat</c>).</summary>
    private static long ThrottledPeriods(IServiceCgroup cgroup)
    {
        var stat = cgroup.Directories
            .Select(d => Path.Combine(d, "cpu.stat"))
            .First(path => File.Exists(path) && File.ReadLines(path).Any(l => l.StartsWith("nr_throttled ", StringComparison.Ordinal)));
        var line = File.ReadLines(stat).First(l => l.StartsWith("nr_throttled ", StringComparison.Ordinal));
        return long.Parse(line["nr_throttled ".Length..], CultureInfo.InvariantCulture);
    }

    private static string PidsDirectory(IServiceCgroup cgroup) =>
        cgroup.Directories.First(d => File.Exists(Path.Combine(d, "pids.max")));

    private static async Task<bool> WaitForExitAsync(Process process, TimeSpan? timeout = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!process.HasExited && stopwatch.Elapsed < (timeout ?? TimeSpan.FromSeconds(15)))
        {
            await Task.Delay(20);
        }

        return process.HasExited;
    }

    private async Task<IServiceCgroup> CreateAsync(string service, ResourceLimits limits)
    {
        var cgroup = await _controller.CreateAsync(service, limits);
        Assert.That(cgroup, Is.Not.Null);
        _cgroups.Add(cgroup!);
        return cgroup!;
    }

    private Process Start(IServiceCgroup cgroup, string script)
    {
        var process = CgroupTestProcess.Start(cgroup, script);
        _processes.Add(process);
        _seenPids.Add(process.Id);
        return process;
    }

    /// <summary>Starts <c>sleep 300</c> outside any of the test's cgroups; the teardown kills it by pid.</summary>
    private Process StartOutside()
    {
        var process = Process.Start(new ProcessStartInfo("/bin/sleep", "300") { UseShellExecute = false })!;
        _processes.Add(process);
        _seenPids.Add(process.Id);
        return process;
    }

    private Task<bool> WaitForPidsAsync(IServiceCgroup cgroup, Func<IReadOnlyList<int>, bool> condition) =>
        CgroupTestProcess.WaitUntilAsync(
            async () =>
            {
                var pids = await cgroup.GetPidsAsync();
                _seenPids.UnionWith(pids);
                return condition(pids);
            },
            TimeSpan.FromSeconds(15));
}
