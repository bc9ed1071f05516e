using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Ipc;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GitProc.Core.Tests.Hosting;

/// <summary>
/// An application embeds the GitOps loop in its own host, without GitProc.Hosting: <c>AddGitProc</c> and the public
/// interfaces are enough to run what is committed, apply the next commit, serve the CLI's socket and stop cleanly.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(90_000)]
public sealed class EmbeddedGitOpsLoopTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Test]
    public async Task A_host_of_its_own_runs_a_committed_unit_applies_the_next_commit_and_stops_it()
    {
        using var repo = new TempGitRepository();
        repo.InitWithCli();
        repo.Commit("web", ("web.service", "[Service]\nExecStart=/bin/sleep 301\n"));
        var socket = Path.Combine(repo.Root, "gitproc.sock");

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddGitProc(o =>
        {
            o.RepositoryPath = repo.Path;
            o.StatePath = Path.Combine(repo.Root, "state", "state.json");
            o.LogDirectory = Path.Combine(repo.Root, "logs");
            o.SocketPath = socket;
            o.ResourceControl.Enabled = false;
        });
        builder.Services.AddHostedService<EmbeddedGitOpsLoop>();
        using var host = builder.Build();
        var supervisor = host.Services.GetRequiredService<ISupervisor>();

        await host.StartAsync();
        int first;
        int second;
        try
        {
            // Running once the host has started: the first apply is part of the start.
            var running = supervisor.GetStatus("web");
            Assert.That(running.Status, Is.EqualTo(ServiceStatus.Running));
            first = running.Pid!.Value;
            Assert.That(await RunsAsync(first, "/bin/sleep 301"), Is.True, CommandLine(first));

            // The control socket answers as it does for the daemon.
            await using (var client = new GitProcClient(socket))
            {
                var status = await client.GetStatusAsync("web");
                Assert.That((status.State, status.Pid), Is.EqualTo(("running", (int?)first)));
            }

            // The next commit is noticed and applied by the watch loop: the changed unit restarts.
            repo.Commit("web: longer", ("web.service", "[Service]\nExecStart=/bin/sleep 302\n"));
            Assert.That(
                await ProcScan.WaitUntilAsync(() => supervisor.GetStatus("web") is { Status: ServiceStatus.Running, Pid: { } pid } && pid != first, Patience),
                Is.True,
                "the changed unit was applied");
            second = supervisor.GetStatus("web").Pid!.Value;
            Assert.That(await RunsAsync(second, "/bin/sleep 302"), Is.True, CommandLine(second));
            Assert.That(ProcScan.IsAlive(first), Is.False, "the old process was stopped");
        }
        finally
        {
            await host.StopAsync();
        }

        Assert.That(ProcScan.IsAlive(second), Is.False, "stopping the host stopped the service");
        Assert.That(File.Exists(socket), Is.False, "the socket was removed");
    }

    // A process is reported once spawned; for a moment inside its exec, /proc shows an empty command line.
    private static Task<bool> RunsAsync(int pid, string commandLine) =>
        ProcScan.WaitUntilAsync(() => CommandLine(pid) == commandLine, Patience);

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Replace('\0', ' ');
        }
        catch (IOException)
        {
            return $"(process {pid} is gone)";
        }
    }
}
