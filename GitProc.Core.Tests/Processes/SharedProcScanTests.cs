using System.Runtime.Versioning;
using GitProc.Processes;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Processes;

[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(30_000)]
public sealed class SharedProcScanTests
{
    [Test]
    public async Task Requests_made_during_a_walk_are_all_answered_by_the_one_walk_that_begins_after_it(CancellationToken token)
    {
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var releaseFirst = new SemaphoreSlim(0);
        var walks = 0;
        var scan = new SharedProcScan(() =>
        {
            if (Interlocked.Increment(ref walks) == 1)
            {
                firstStarted.SetResult();
                releaseFirst.Wait(token);
            }

            return Snapshot(leader: 100, walks);
        });

        var first = scan.NextAsync();
        await firstStarted.Task.WaitAsync(token);
        var during = Enumerable.Range(0, 50).Select(_ => scan.NextAsync()).ToList();
        releaseFirst.Release();

        Assert.That((await first.WaitAsync(token)).LiveMembers(100), Is.EqualTo(new[] { 1 }));
        var answers = await Task.WhenAll(during).WaitAsync(token);
        Assert.That(answers.Select(a => a.LiveMembers(100).Single()), Is.All.EqualTo(2), "a request made while a walk ran must get a walk begun after it");
        Assert.That(answers.Distinct().Count(), Is.EqualTo(1), "the requests share one walk");
        Assert.That(walks, Is.EqualTo(2));
        Assert.That(scan.Walks, Is.EqualTo(2));
    }

    [Test]
    public async Task A_failed_walk_fails_its_waiters_and_the_next_request_walks_again(CancellationToken token)
    {
        var walks = 0;
        var scan = new SharedProcScan(() => Interlocked.Increment(ref walks) == 1
            ? throw new IOException("/proc is not mounted")
            : Snapshot(leader: 7, 70));

        Assert.ThrowsAsync<IOException>(async () => await scan.NextAsync().WaitAsync(token));
        Assert.That((await scan.LiveMembersAsync(7).WaitAsync(token)), Is.EqualTo(new[] { 70 }));
        Assert.That(await scan.LiveMembersAsync(8).WaitAsync(token), Is.Empty);
    }

    [Test]
    public async Task The_shared_walk_finds_a_services_processes_by_group_and_by_session_and_a_stop_reaches_them(CancellationToken token)
    {
        // perl's setpgrp moves it to a group of its own inside the service's session.
        string[] argv = ["/bin/sh", "-c", "sleep 300 & perl -e 'setpgrp(0, 0); sleep 301' & wait"];
        var unit = new UnitFile { Name = "grp", FileName = "grp.service", ExecStartCommands = [new UnitCommand(string.Join(' ', argv), argv, false)] };
        using var manager = new ProcessManager();
        var process = await manager.StartAsync(new ProcessLaunch(unit, unit.ExecStartCommands[0]), token);
        List<int> members = [];
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (members.Count < 3 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10, token);
                members = await SharedProcScan.Shared.LiveMembersAsync(process.Info.Pid).WaitAsync(token);
            }

            Assert.That(members, Has.Count.EqualTo(3), "the shell, its sleep (same group) and perl (same session, own group)");
            Assert.That(members, Does.Contain(process.Info.Pid));
            var outside = await SharedProcScan.Shared.OutsideGroupAsync(process.Info.Pid).WaitAsync(token);
            Assert.That(outside, Has.Count.EqualTo(1), "only perl is out of the group that kill(-pid) reaches");
            Assert.That(ProcStat.TryRead(outside[0], out var stat) && stat.ProcessGroup == outside[0], Is.True);
        }
        finally
        {
            await process.StopAsync(15, TimeSpan.FromSeconds(5)).WaitAsync(token);
        }

        Assert.That(members.Where(pid => ProcStat.TryRead(pid, out var stat) && !stat.IsDead), Is.Empty, "a process of the stopped tree survived");
    }

    private static ProcSnapshot Snapshot(int leader, params int[] pids) =>
        new(new Dictionary<int, List<(int Pid, int Group)>> { [leader] = [.. pids.Select(pid => (pid, leader))] });
}
