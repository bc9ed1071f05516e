using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.Versioning;
using GitProc.Health;
using GitProc.Processes;

namespace GitProc.Core.Tests.Processes;

/// <summary>
/// Degrade, never die (CONTRACT §9): what the parts of the daemon that open descriptors do when there are none left,
/// measured in a real child process that runs itself out of them.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(60_000)]
public sealed class DescriptorShortageTests
{
    [Test]
    public async Task Starts_never_take_the_last_descriptors_and_reads_without_one_fail_as_the_daemons_shortage()
    {
        var directory = Directory.CreateTempSubdirectory("gitproc-shortage-").FullName;
        try
        {
            var info = TestChild.StartInfo("without-descriptors", directory);
            using var child = Process.Start(info)!;
            var output = await child.StandardOutput.ReadToEndAsync();
            var errors = await child.StandardError.ReadToEndAsync();
            await child.WaitForExitAsync();
            Assert.That(child.ExitCode, Is.Zero, output + errors);
            var report = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('=', 2))
                .ToDictionary(pair => pair[0], pair => pair[1]);

            Assert.Multiple(() =>
            {
                // A start that would leave fewer free than the headroom is refused before it opens anything, as the
                // daemon's shortage (not the service's failure); what is free stays free, so the runtime can still
                // create a thread (without one, a thread pool worker that cannot start aborts the daemon).
                Assert.That(report["start"], Does.StartWith("True ").And.Contain("out of file descriptors").And.Contain("beyond the 8 it keeps for itself"));
                Assert.That(report["thread-after-refused-start"], Is.EqualTo("started"));
                Assert.That(report["reserve-released-by-refused-start"], Is.EqualTo("False"));

                // With just enough room it goes ahead, and the headroom is still free afterwards.
                Assert.That(report["start-with-room"], Is.EqualTo("started"));
                Assert.That(report["headroom-after-start"], Is.EqualTo("True"));

                // Meeting the limit anywhere hands the reserve back to the rest of the process, which it is not taken
                // from again until there is room for it and for a start.
                Assert.That(report["cgroup-read"], Does.StartWith("True Cannot read ").And.Contain("Too many open files"));
                Assert.That(report["reserve-released"], Is.EqualTo("True"));
                Assert.That(report["reserve-taken-while-short"], Is.EqualTo("False"));
                Assert.That(report["reserve-taken-after"], Is.EqualTo("True"));

                // Reads degrade into errors that say so, never into exceptions nobody expects.
                Assert.That(report["proc-stat"], Is.EqualTo("False 24"));
                Assert.That(report["members"], Is.EqualTo("0"));
            });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void Shortages_are_told_apart_from_other_failures()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ResourceShortage.Is(new IOException("Too many open files", 24)), Is.True, "EMFILE");
            Assert.That(ResourceShortage.Is(new IOException("File table overflow", 23)), Is.True, "ENFILE");
            Assert.That(ResourceShortage.Is(new GitProcException("wrapped", new IOException("Cannot allocate memory", 12))), Is.True, "ENOMEM, wrapped");
            Assert.That(ResourceShortage.Is(new ProcessStartException("web", "/bin/app", "pipe2 failed") { IsResourceShortage = true }), Is.True);
            Assert.That(ResourceShortage.Is(new OutOfMemoryException()), Is.True);

            Assert.That(ResourceShortage.Is(new ProcessStartException("web", "/bin/app", "no such file")), Is.False);
            Assert.That(ResourceShortage.Is(new IOException("Permission denied", 13)), Is.False);
            Assert.That(ResourceShortage.Is(new FileNotFoundException()), Is.False);
            Assert.That(ResourceShortage.Is(null), Is.False);

            // A health check that could not open its socket says nothing about the service.
            Assert.That(HealthProbe.IsDaemonShortage(new HttpRequestException("x", new SocketException((int)SocketError.TooManyOpenSockets))), Is.True);
            Assert.That(HealthProbe.IsDaemonShortage(new HttpRequestException("x", new SocketException((int)SocketError.ConnectionRefused))), Is.False);
        });
    }

    [Test]
    public void Only_descriptor_errnos_release_the_reserve()
    {
        try
        {
            Assert.That(DescriptorReserve.Hold(4), Is.True);
            DescriptorReserve.ReleaseOn(12);
            Assert.That(DescriptorReserve.IsReleased, Is.False, "ENOMEM: descriptors would not help");
            DescriptorReserve.ReleaseOn(24);
            Assert.That(DescriptorReserve.IsReleased, Is.True, "EMFILE");
            Assert.That(DescriptorReserve.HasRoomFor(4), Is.True, "plenty are free again here");
            Assert.That(DescriptorReserve.IsReleased, Is.False);
        }
        finally
        {
            DescriptorReserve.Stop();
        }

        Assert.That(DescriptorReserve.Size, Is.Zero);
        Assert.That(DescriptorReserve.HasRoomFor(4), Is.True, "without a reserve nothing is held back");
    }
}
