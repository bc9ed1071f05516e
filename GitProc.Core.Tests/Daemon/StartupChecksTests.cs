using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Daemon;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests.Daemon;

/// <summary>What the daemon checks before it starts, over GitProc's real components and a real repository.</summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class StartupChecksTests
{
    private TempGitRepository _repo = null!;
    private ServiceProvider? _provider;

    [SetUp]
    public void SetUp()
    {
        _repo = new TempGitRepository();
        _repo.InitWithCli();
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        _repo.Dispose();
    }

    private StartupChecks Create(string logDirectory)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGitProc(o =>
        {
            o.RepositoryPath = _repo.Path;
            o.StatePath = Path.Combine(_repo.Root, "state", "state.json");
            o.LogDirectory = logDirectory;
            o.SocketPath = Path.Combine(_repo.Root, "gitproc.sock");
            o.ResourceControl.Enabled = false;
        });
        _provider = services.BuildServiceProvider();
        return ActivatorUtilities.CreateInstance<StartupChecks>(_provider);
    }

    [Test]
    public void A_log_directory_on_a_full_file_system_does_not_stop_the_start()
    {
        var logs = Path.Combine(_repo.Root, "logs");
        using var tmpfs = TinyTmpfs.Mount(logs, "64k", inodes: 2);
        var filler = 0;
        try
        {
            while (filler < 10)
            {
                File.WriteAllText(Path.Combine(logs, $"filler-{filler++}"), "");
            }
        }
        catch (IOException)
        {
            // No inode left: not even an empty file can be created.
        }

        Assert.That(filler, Is.LessThan(10), "the file system is full");
        var checks = Create(logs);

        // A shortage the daemon degrades through (CONTRACT §9), unlike a directory it may not write.
        Assert.That(() => checks.RunAsync(CancellationToken.None), Throws.Nothing);
    }

    [Test]
    public void A_file_in_place_of_the_log_directory_stops_the_start_naming_it()
    {
        var logs = Path.Combine(_repo.Root, "logs");
        File.WriteAllText(logs, "in the way");
        var checks = Create(logs);

        Assert.That(
            () => checks.RunAsync(CancellationToken.None),
            Throws.InstanceOf<GitProcException>().With.Message.EqualTo(
                $"Cannot write the log directory {logs}: it is a file, not a directory; give the daemon a directory it can write (--log-dir)."));
    }
}
