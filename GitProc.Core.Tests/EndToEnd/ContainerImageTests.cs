using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// <c>samples/integrations/Dockerfile</c> built and run by a real container engine (docker, else podman): the daemon is
/// the container's main process, runs a unit from a mounted repository, leaves no zombie, and <c>docker stop</c> ends it
/// with exit code 0. Ignored, saying why, where no engine runs or its base images cannot be had.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(1_800_000)]
public sealed class ContainerImageTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(25);

    [Test]
    public async Task The_image_runs_the_daemon_as_PID_1_which_reaps_orphans_and_stops_cleanly_on_docker_stop(CancellationToken token)
    {
        var engine = Tools.Find("docker") ?? Tools.Find("podman");
        if (engine is null)
        {
            Assert.Ignore("no container engine (docker or podman) is installed");
        }

        await using var sandbox = await GitProcSandbox.CreateAsync(token);
        Task<CliResult> RunAsync(string[] args, TimeSpan timeout, CancellationToken cancellationToken) =>
            sandbox.RunToolAsync(engine!, args, cancellationToken, timeout: timeout);

        var info = await RunAsync(["info"], TimeSpan.FromSeconds(30), token);
        if (info.ExitCode != 0)
        {
            Assert.Ignore($"no container engine runs here: `{Path.GetFileName(engine)} info` failed: {FirstLine(info.Stderr)}");
        }

        foreach (var image in (string[])["mcr.microsoft.com/dotnet/sdk:10.0", "debian:bookworm-slim"])
        {
            var pull = await RunAsync(["pull", "-q", image], TimeSpan.FromMinutes(10), token);
            if (pull.ExitCode != 0)
            {
                Assert.Ignore($"the base image {image} cannot be pulled here: {FirstLine(pull.Stderr)}");
            }
        }

        sandbox.WriteUnit("web", "[Service]\nExecStart=/bin/sh -c 'echo hello from web; (sleep 1 &); exec sleep 3600'\n");
        await sandbox.CommitAsync("web", token);

        var tag = "gitproc-e2e:" + Path.GetFileName(sandbox.Root)["gitproc-e2e-".Length..];
        var container = "gitproc-e2e-" + Path.GetFileName(sandbox.Root)["gitproc-e2e-".Length..];
        var build = await RunAsync(["build", "-f", Path.Combine(GitProcSandbox.SourceRoot, "samples/integrations/Dockerfile"), "-t", tag, GitProcSandbox.SourceRoot], BuildTimeout, token);
        Assert.That(build.ExitCode, Is.Zero, build.ToString);
        try
        {
            var run = await RunAsync(["run", "-d", "--name", container, "-v", $"{sandbox.Repo}:/etc/gitproc/services", tag], TimeSpan.FromMinutes(1), token);
            Assert.That(run.ExitCode, Is.Zero, run.ToString);

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            CliResult list;
            while (!(list = await RunAsync(["exec", container, "gitproc", "list"], TimeSpan.FromSeconds(30), token)).Stdout.Contains("web (running", StringComparison.Ordinal))
            {
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "web runs in the container:\n" + list);
                await Task.Delay(500, token);
            }

            // The orphaned `sleep 1` ended a while ago: PID 1 reaped it.
            await Task.Delay(TimeSpan.FromSeconds(3), token);
            var zombies = await RunAsync(["exec", container, "sh", "-c", "grep -l '^State:.Z' /proc/[0-9]*/status || true"], TimeSpan.FromSeconds(30), token);
            Assert.That(zombies.Stdout.Trim(), Is.Empty, zombies.ToString);

            var stop = await RunAsync(["stop", "-t", "100", container], TimeSpan.FromMinutes(2), token);
            Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
            var exit = await RunAsync(["inspect", "-f", "{{.State.ExitCode}}", container], TimeSpan.FromSeconds(30), token);
            var logs = await RunAsync(["logs", container], TimeSpan.FromSeconds(30), token);
            Assert.That(exit.Stdout.Trim(), Is.EqualTo("0"), logs.ToString);
            Assert.That(logs.Stdout + logs.Stderr, Does.Contain("Stopped web"), logs.ToString);
        }
        finally
        {
            await RunAsync(["rm", "-f", container], TimeSpan.FromMinutes(1), CancellationToken.None);
            await RunAsync(["rmi", "-f", tag], TimeSpan.FromMinutes(1), CancellationToken.None);
        }
    }

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "(no message)";
}
