using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using GitProc.Core.Tests.TestSupport;
using GitProc.Logs;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Logs;

/// <summary>
/// The log directory on a real, really full file system: a 64 KiB tmpfs mounted by the test (so it needs root).
/// Every stamped line here is 33 bytes (<c>[2024-03-05 10:08:09] line 00001</c> and its newline, so lines do not
/// line up with 4 KiB pages), and lines are written 100 at a time: a write that runs out of space stores part of its
/// chunk, up to a page boundary inside a line.
/// </summary>
[CancelAfter(60_000)]
[Platform(Include = "Linux")]
public sealed partial class ServiceLogsFullDiskTests
{
    private const string Stamp = "[2024-03-05 10:08:09] ";
    private const int ChunkLines = 100;

    private string _directory = null!;
    private string _mount = null!;
    private TinyTmpfs? _tmpfs;
    private FakeTimeProvider _time = null!;
    private FakeLogger<ServiceLogs> _logger = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Path.Combine(Path.GetTempPath(), "gitproc-logs-full-" + Guid.NewGuid().ToString("N"));
        _mount = Path.Combine(_directory, "fs");
        try
        {
            _tmpfs = TinyTmpfs.Mount(_mount, "64k");
        }
        catch (IgnoreException)
        {
            Directory.Delete(_directory, recursive: true);
            throw;
        }

        _time = new FakeTimeProvider(new DateTimeOffset(2024, 3, 5, 10, 8, 9, TimeSpan.Zero));
        _time.SetLocalTimeZone(TimeZoneInfo.Utc);
        _logger = new FakeLogger<ServiceLogs>();
    }

    [TearDown]
    public void TearDown()
    {
        _tmpfs?.Dispose();
        _tmpfs = null;
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Test]
    public async Task A_full_disk_leaves_only_whole_lines_and_a_marker_with_the_exact_count_first_when_writing_resumes()
    {
        await WriteThroughFullDiskAsync(full: 4000, last: 4100);

        var (lines, markers) = ReadChecked(4100);

        Assert.That(markers, Has.Count.EqualTo(1), "one gap, announced once");
        var (at, dropped) = markers[0];
        Assert.Multiple(() =>
        {
            Assert.That(at, Is.EqualTo(1400), "the 15th chunk fills the disk; the 14 before it are kept whole");
            Assert.That(dropped, Is.EqualTo(4000 - at), "every line from the gap to the freeing of space, exactly");
            Assert.That(lines[at], Is.EqualTo($"{Stamp}gitproc: {dropped} lines dropped: No space left on device"));
            Assert.That(lines[at + 1], Is.EqualTo($"{Stamp}line 04001"), "writing resumes with the marker first");
            Assert.That(_logger.Collector.GetSnapshot().Count(e => e.Id.Id == 401), Is.EqualTo(1), "the failure is logged once, not per line");
            Assert.That(_logger.Collector.GetSnapshot().Count(e => e.Id.Id == 402), Is.EqualTo(1), "and its end once");
        });
    }

    [Test]
    public async Task Lines_dropped_on_a_full_disk_are_announced_when_the_writer_closes_if_there_is_room_by_then()
    {
        await WriteThroughFullDiskAsync(full: 2000, last: 2000);

        var (lines, markers) = ReadChecked(2000);

        Assert.That(markers, Has.Count.EqualTo(1));
        Assert.That(markers[0].Dropped, Is.EqualTo(2000 - markers[0].At));
        Assert.That(lines[^1], Is.EqualTo($"{Stamp}gitproc: {markers[0].Dropped} lines dropped: No space left on device"));
    }

    [Test]
    public async Task After_a_failed_write_the_rotated_file_starts_with_the_marker()
    {
        // 28 KiB of room; the first 1212 lines (39 996 bytes) go to the file when line 1213 rotates it, which fails
        // part-way (28 672 bytes in, inside a line), and the file is rotated (deleted, MaxFiles=0) with nothing torn in it.
        Fill(36 * 1024);
        await using var logs = Create(maxFileBytes: 40_000, maxFiles: 0);
        await using (var writer = logs.OpenWriter("web"))
        {
            await writer.WriteAsync(Encoding.ASCII.GetBytes(Numbered(1, 1300)));
        }

        var (lines, markers) = ReadChecked(1300);

        Assert.That(markers, Is.EqualTo(new[] { (0, 1212L) }));
        Assert.That(lines[1], Is.EqualTo($"{Stamp}line 01213"));
    }

    private static string Numbered(int first, int last) =>
        string.Concat(Enumerable.Range(first, last - first + 1).Select(i => $"line {i:D5}\n"));

    private static async Task WriteLinesAsync(IServiceLogWriter writer, int first, int last)
    {
        for (var start = first; start <= last; start += ChunkLines)
        {
            await writer.WriteAsync(Encoding.ASCII.GetBytes(Numbered(start, Math.Min(last, start + ChunkLines - 1))));
        }
    }

    [GeneratedRegex(@"^\[2024-03-05 10:08:09\] (?:line (?<n>\d{5})|gitproc: (?<dropped>\d+) lines dropped: No space left on device)$")]
    private static partial Regex StoredLine();

    /// <summary>
    /// Writes lines 1 to <paramref name="full"/> with 48 KiB of room (1489 lines: the disk fills up in the 15th chunk,
    /// lines 1401 to 1500), frees 16 KiB, writes the lines after it to <paramref name="last"/> and closes the writer.
    /// </summary>
    private async Task WriteThroughFullDiskAsync(int full, int last)
    {
        var filler = Fill(16 * 1024);
        await using var logs = Create();
        await using var writer = logs.OpenWriter("web");
        await WriteLinesAsync(writer, 1, full);
        File.Delete(filler);
        await WriteLinesAsync(writer, full + 1, last);
    }

    private string Fill(int bytes) => _tmpfs!.Fill(bytes);

    /// <summary>
    /// Reads the log and checks what a reader relies on: it ends with a newline, every line is a whole stamped line
    /// (a numbered one or a marker), and the numbers run from 1 to <paramref name="last"/> in order, each gap exactly
    /// as long as the marker standing in it says. Returns the lines and each marker's index and count.
    /// </summary>
    private (string[] Lines, List<(int At, long Dropped)> Markers) ReadChecked(int last)
    {
        var text = File.ReadAllText(Path.Combine(_mount, "logs", "web.log"));
        Assert.That(text, Does.EndWith("\n"), "the file ends inside a line");
        var lines = text[..^1].Split('\n');
        var markers = new List<(int, long)>();
        long expected = 1;
        for (var index = 0; index < lines.Length; index++)
        {
            var match = StoredLine().Match(lines[index]);
            Assert.That(match.Success, Is.True, $"line {index + 1} of the file is not a whole stamped line: '{lines[index]}'");
            if (match.Groups["dropped"].Success)
            {
                var dropped = long.Parse(match.Groups["dropped"].Value, CultureInfo.InvariantCulture);
                markers.Add((index, dropped));
                expected += dropped;
            }
            else
            {
                Assert.That(int.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture), Is.EqualTo(expected), $"line {index + 1} of the file");
                expected++;
            }
        }

        Assert.That(expected, Is.EqualTo(last + 1), "the lines stored and the counts of the markers add up to every line written");
        return (lines, markers);
    }

    private ServiceLogs Create(long maxFileBytes = 10 * 1024 * 1024, int maxFiles = 5) =>
        new(
            Options.Create(new GitProcOptions
            {
                LogDirectory = Path.Combine(_mount, "logs"),
                Logs = new LogOptions { MaxFileBytes = maxFileBytes, MaxFiles = maxFiles },
            }),
            _time,
            _logger);
}
