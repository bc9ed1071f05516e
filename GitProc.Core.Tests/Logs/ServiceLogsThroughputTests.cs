using System.Buffers;
using System.Diagnostics;
using System.Text;
using GitProc.Logs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.Logs;

/// <summary>
/// Sanity checks of the hot path with real volumes. The machine is shared, so speed is only printed (the lead
/// measures the 300 MB/s target separately); what is asserted is that no line is lost and memory stays flat.
/// </summary>
[CancelAfter(120_000)]
public sealed class ServiceLogsThroughputTests
{
    private const int ChunkBytes = 64 * 1024;
    private const long TotalBytes = 200L * 1024 * 1024;

    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = Path.Combine(Path.GetTempPath(), "gitproc-logs-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Test]
    public async Task Writing_200_MB_in_64_KiB_chunks_loses_no_line()
    {
        var (source, linesPerSource) = Source();
        var repeats = (int)(TotalBytes / source.Length);
        await using var logs = Create();
        await using var writer = logs.OpenWriter("fast");

        var watch = Stopwatch.StartNew();
        for (var r = 0; r < repeats; r++)
        {
            // Slices cut lines anywhere, as pipe reads do.
            for (var offset = 0; offset < source.Length; offset += ChunkBytes)
            {
                await writer.WriteAsync(source.AsMemory(offset, Math.Min(ChunkBytes, source.Length - offset)));
            }
        }

        watch.Stop();
        var bytes = (long)source.Length * repeats;
        var lines = (long)linesPerSource * repeats;
        TestContext.Out.WriteLine(
            $"Log capture: {bytes / 1e6:F0} MB, {lines} lines in {watch.Elapsed.TotalSeconds:F2} s = {bytes / 1e6 / watch.Elapsed.TotalSeconds:F0} MB/s");

        var path = Path.Combine(_directory, "fast.log");
        Assert.That(new FileInfo(path).Length, Is.EqualTo(bytes + (lines * ServiceLogFile.StampBytes)));
        Assert.That(CountNewlines(path), Is.EqualTo(lines));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)));
    }

    [Test]
    public async Task Writing_200_MB_does_not_grow_memory()
    {
        var (source, _) = Source();
        var repeats = (int)(TotalBytes / source.Length);
        await using var logs = Create();
        await using var writer = logs.OpenWriter("fast");
        await writer.WriteAsync(source.AsMemory(0, ChunkBytes));
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long worst = 0;

        for (var r = 0; r < repeats; r++)
        {
            for (var offset = 0; offset < source.Length; offset += ChunkBytes)
            {
                await writer.WriteAsync(source.AsMemory(offset, Math.Min(ChunkBytes, source.Length - offset)));
            }

            if (r % 10 == 9)
            {
                worst = Math.Max(worst, GC.GetTotalMemory(forceFullCollection: true) - baseline);
            }
        }

        TestContext.Out.WriteLine($"Largest growth of live memory while writing: {worst / 1024} KiB");
        Assert.That(worst, Is.LessThan(8L * 1024 * 1024));
    }

    /// <summary>4 MiB of lines of 0 to 200 bytes (so about 40 000 lines), ending with a newline.</summary>
    private static (byte[] Bytes, int Lines) Source()
    {
        var random = new Random(3);
        var text = new StringBuilder();
        var lines = 0;
        while (text.Length < 4 * 1024 * 1024)
        {
            text.Append(lines).Append(' ').Append('x', random.Next(0, 200)).Append('\n');
            lines++;
        }

        return (Encoding.ASCII.GetBytes(text.ToString()), lines);
    }

    private static long CountNewlines(string path)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1024 * 1024);
        try
        {
            using var stream = File.OpenRead(path);
            long count = 0;
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                count += buffer.AsSpan(0, read).Count((byte)'\n');
            }

            return count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ServiceLogs Create() =>
        new(
            Options.Create(new PathOptions { LogDirectory = _directory }),
            Options.Create(new LogOptions { MaxFileBytes = 1L << 40, MaxFiles = 1 }),
            TimeProvider.System,
            NullLogger<ServiceLogs>.Instance);
}
