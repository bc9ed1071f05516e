using System.Diagnostics;
using System.Runtime.Versioning;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.DependencyInjection;

namespace EmbeddedGitOps.Tests;

/// <summary>
/// The application as it runs: its host with GitProc's real components, a real Git repository in a temporary
/// directory, real service processes. A commit runs a service; the host's stop stops it and leaves nothing running.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class EmbeddedGitOpsHostTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private DirectoryInfo _directory = null!;
    private SampleLayout _layout = null!;

    [SetUp]
    public void CreateDirectory()
    {
        if (!File.Exists("/usr/bin/git") && !File.Exists("/bin/git"))
        {
            Assert.Ignore("needs the git command (Debian package git) to commit units as a user would");
        }

        _directory = Directory.CreateTempSubdirectory("egops-");
        _layout = SampleLayout.For(_directory.FullName);
    }

    [TearDown]
    public void DeleteDirectory()
    {
        // A failed test may leave its service running; kill what runs from this directory before deleting it.
        foreach (var pid in ProcessesRunningFrom(_directory.FullName))
        {
            try
            {
                Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        _directory.Delete(recursive: true);
    }

    [Test]
    public async Task A_committed_unit_runs_and_the_host_stop_leaves_nothing_running(CancellationToken cancellationToken)
    {
        var host = EmbeddedGitOpsHost.Build(_directory.FullName, []);
        int pid;
        try
        {
            await host.StartAsync(cancellationToken);
            Assert.That(Directory.Exists(Path.Combine(_layout.UnitRepository, ".git")), Is.True, "the application creates its unit repository");

            var script = WriteScript("worker.sh", "echo started; while :; do sleep 1; done");
            await CommitAsync("worker.service", $"""
                [Unit]
                Description=A worker committed to the application's repository

                [Service]
                ExecStart=/bin/sh {script}
                Restart=always
                """, cancellationToken);

            var supervisor = host.Services.GetRequiredService<ISupervisor>();
            var running = await EventuallyAsync(
                () => supervisor.ListServices().SingleOrDefault(s => s is { Name: "worker", Status: ServiceStatus.Running, Pid: not null }),
                "worker to run", cancellationToken);
            pid = running.Pid!.Value;
            Assert.That(File.ReadAllText($"/proc/{pid}/cmdline"), Does.Contain(script));

            // The application's own report, over the real state file, process table and health monitor.
            var report = await EventuallyAsync(
                async () => await host.Services.GetRequiredService<ServiceReport>().CreateAsync(cancellationToken) is { IsReady: true } r
                    && r.Services.Any(s => s.Name == "worker" && s.ProcessAlive) ? r : null,
                "the report to show worker running", cancellationToken);
            Assert.That(report.Services.Single().Pid, Is.EqualTo(pid));
            await EventuallyAsync(
                () => File.Exists(Path.Combine(_layout.LogDirectory, "worker.log")) && File.ReadAllText(Path.Combine(_layout.LogDirectory, "worker.log")).Contains("started", StringComparison.Ordinal) ? "" : null,
                "worker's output in the application's log directory", cancellationToken);
            Assert.That(File.Exists(_layout.SocketPath), Is.True, "the control socket is in the application's directory");

            await host.StopAsync(cancellationToken);
        }
        finally
        {
            host.Dispose();
        }

        Assert.Multiple(() =>
        {
            Assert.That(Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/cmdline").Contains(_directory.FullName, StringComparison.Ordinal), Is.False, "worker's process is gone");
            Assert.That(ProcessesRunningFrom(_directory.FullName), Is.Empty, "no process runs from the application's directory");
            Assert.That(File.Exists(_layout.SocketPath), Is.False, "the socket is removed");
            Assert.That(File.Exists(_layout.StatePath), Is.True, "the state is kept for the next start");
        });
    }

    [Test]
    public async Task A_commit_that_removes_a_unit_stops_its_service(CancellationToken cancellationToken)
    {
        using var host = EmbeddedGitOpsHost.Build(_directory.FullName, []);
        await host.StartAsync(cancellationToken);
        var script = WriteScript("loop.sh", "while :; do sleep 1; done");
        await CommitAsync("keeper.service", $"[Service]\nExecStart=/bin/sh {script} keeper\n", cancellationToken);
        await CommitAsync("worker.service", $"[Service]\nExecStart=/bin/sh {script} worker\n", cancellationToken);
        var supervisor = host.Services.GetRequiredService<ISupervisor>();
        var pid = (await EventuallyAsync(
            () => supervisor.ListServices().SingleOrDefault(s => s is { Name: "worker", Status: ServiceStatus.Running, Pid: not null }),
            "worker to run", cancellationToken)).Pid!.Value;

        await GitAsync(["rm", "-q", "worker.service"], cancellationToken);
        await GitAsync(["commit", "-q", "-m", "Remove worker"], cancellationToken);

        await EventuallyAsync(() => supervisor.ListServices().Any(s => s.Name == "worker") ? null : "", "worker to be removed", cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That(ProcessesRunningFrom(_directory.FullName), Does.Not.Contain(pid), "worker's process is gone");
            Assert.That(supervisor.ListServices().Single().Name, Is.EqualTo("keeper"));
        });
        await host.StopAsync(cancellationToken);
    }

    private string WriteScript(string name, string body)
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        return path;
    }

    private async Task CommitAsync(string fileName, string content, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Path.Combine(_layout.UnitRepository, fileName), content, cancellationToken);
        await GitAsync(["add", fileName], cancellationToken);
        await GitAsync(["commit", "-q", "-m", "Add " + fileName], cancellationToken);
    }

    private async Task GitAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardError = true };
        foreach (var argument in (string[])["-C", _layout.UnitRepository, "-c", "user.name=Test", "-c", "user.email=test@localhost", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        using var git = Process.Start(start)!;
        var error = await git.StandardError.ReadToEndAsync(cancellationToken);
        await git.WaitForExitAsync(cancellationToken);
        Assert.That(git.ExitCode, Is.Zero, $"git {string.Join(' ', arguments)}: {error}");
    }

    private static Task<T> EventuallyAsync<T>(Func<T?> probe, string what, CancellationToken cancellationToken)
        where T : class =>
        EventuallyAsync(() => Task.FromResult(probe()), what, cancellationToken);

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what, CancellationToken cancellationToken)
        where T : class
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } result)
            {
                return result;
            }

            if (deadline.Elapsed > Patience)
            {
                Assert.Fail($"Waited {Patience.TotalSeconds} s for {what}.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Live processes whose command line names <paramref name="directory"/> (the test's services).</summary>
    private static List<int> ProcessesRunningFrom(string directory)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), out var pid) && pid != Environment.ProcessId)
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(entry, "cmdline")).Contains(directory, StringComparison.Ordinal))
                    {
                        found.Add(pid);
                    }
                }
                catch (IOException)
                {
                    // Ended while being read.
                }
                catch (UnauthorizedAccessException)
                {
                    // Another user's process: not ours.
                }
            }
        }

        return found;
    }
}
