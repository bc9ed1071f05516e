using System.Text;
using GitProc.Logs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.Logs;

[CancelAfter(60_000)]
public sealed class ServiceLogsTests
{
    private const string Stamp = "[2024-03-05 10:08:09] ";

    private string _directory = null!;
    private FakeTimeProvider _time = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Path.Combine(Path.GetTempPath(), "gitproc-logs-" + Guid.NewGuid().ToString("N"));

        // 07:08:09 UTC is 10:08:09 in the fake local zone: the stamp must use local time.
        _time = new FakeTimeProvider(new DateTimeOffset(2024, 3, 5, 7, 8, 9, TimeSpan.Zero));
        _time.SetLocalTimeZone(TimeZoneInfo.CreateCustomTimeZone("Test+3", TimeSpan.FromHours(3), "Test+3", "Test+3"));
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Test]
    public async Task Each_line_is_stamped_with_the_local_time_it_arrived()
    {
        await using var logs = Create();
        await using (var writer = logs.OpenWriter("web"))
        {
            await WriteAsync(writer, "hello\nworld\n");
            _time.Advance(TimeSpan.FromSeconds(2));
            await WriteAsync(writer, "again\n");
            _time.Advance(TimeSpan.FromDays(300));
            await WriteAsync(writer, "next year\n");
        }

        Assert.That(
            ReadLog("web.log"),
            Is.EqualTo("[2024-03-05 10:08:09] hello\n[2024-03-05 10:08:09] world\n[2024-03-05 10:08:11] again\n[2024-12-30 10:08:11] next year\n"));
    }

    [Test]
    public async Task The_log_directory_is_created_on_the_first_write()
    {
        await using var logs = Create();
        await using var writer = logs.OpenWriter("web");
        Assert.That(Directory.Exists(_directory), Is.False);

        await WriteAsync(writer, "x\n");

        Assert.That(File.Exists(Path.Combine(_directory, "web.log")), Is.True);
    }

    [Test]
    public async Task Crlf_endings_are_stripped_but_other_carriage_returns_kept()
    {
        await using var logs = Create();
        await using (var writer = logs.OpenWriter("web"))
        {
            await WriteAsync(writer, "a\r\nb\r\n\r\nprogress 10%\rprogress 20%\r\n");
        }

        Assert.That(ReadLog("web.log"), Is.EqualTo($"{Stamp}a\n{Stamp}b\n{Stamp}\n{Stamp}progress 10%\rprogress 20%\n"));
    }

    [Test]
    public async Task Lines_stored_do_not_depend_on_how_the_output_was_chunked()
    {
        var input = MixedOutput();
        await using var logs = Create();

        await using (var whole = logs.OpenWriter("whole"))
        {
            await whole.WriteAsync(input);
        }

        await using (var bytes = logs.OpenWriter("bytes"))
        {
            for (var i = 0; i < input.Length; i++)
            {
                await bytes.WriteAsync(input.AsMemory(i, 1));
            }
        }

        var random = new Random(42);
        await using (var chunks = logs.OpenWriter("chunks"))
        {
            for (var i = 0; i < input.Length;)
            {
                var size = Math.Min(input.Length - i, random.Next(1, 100_000));
                await chunks.WriteAsync(input.AsMemory(i, size));
                i += size;
            }
        }

        var expected = Encoding.UTF8.GetBytes(string.Concat(ReferenceLines(input).Select(line => Stamp + line + "\n")));
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllBytes(Path.Combine(_directory, "whole.log")), Is.EqualTo(expected));
            Assert.That(File.ReadAllBytes(Path.Combine(_directory, "bytes.log")), Is.EqualTo(expected));
            Assert.That(File.ReadAllBytes(Path.Combine(_directory, "chunks.log")), Is.EqualTo(expected));
        });
    }

    [Test]
    public async Task A_partial_last_line_is_stored_when_the_writer_is_disposed()
    {
        await using var logs = Create();
        var writer = logs.OpenWriter("web");
        await WriteAsync(writer, "done\nno newline at the end");
        Assert.That(ReadLog("web.log"), Is.EqualTo($"{Stamp}done\n"));

        await writer.DisposeAsync();

        Assert.That(ReadLog("web.log"), Is.EqualTo($"{Stamp}done\n{Stamp}no newline at the end\n"));
        Assert.That(async () => await WriteAsync(writer, "more\n"), Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public async Task Disposing_the_store_stores_the_partial_lines_of_open_writers()
    {
        var logs = Create();
        var writer = logs.OpenWriter("web");
        await WriteAsync(writer, "unfinished");

        await logs.DisposeAsync();

        Assert.That(ReadLog("web.log"), Is.EqualTo($"{Stamp}unfinished\n"));
        Assert.That(async () => await WriteAsync(writer, "more\n"), Throws.InstanceOf<ObjectDisposedException>());
        await writer.DisposeAsync();
    }

    [Test]
    public async Task Two_writers_interleaving_chunks_never_mix_partial_lines()
    {
        await using var logs = Create();
        await using (var stdout = logs.OpenWriter("web"))
        await using (var stderr = logs.OpenWriter("web"))
        {
            await WriteAsync(stdout, "out one, first half ");
            await WriteAsync(stderr, "err one, first half ");
            await WriteAsync(stdout, "second half\nout two ");
            await WriteAsync(stderr, "second half\n");
            await WriteAsync(stdout, "ends\n");
        }

        Assert.That(
            ReadLog("web.log"),
            Is.EqualTo($"{Stamp}out one, first half second half\n{Stamp}err one, first half second half\n{Stamp}out two ends\n"));
    }

    [Test]
    public async Task Concurrent_writers_keep_every_line_whole_and_in_their_own_order()
    {
        await using var logs = Create();

        async Task Produce(string name, int seed)
        {
            var text = string.Concat(Enumerable.Range(0, 2000).Select(i => $"{name} {i:D5} {new string('x', i % 97)}\n"));
            var bytes = Encoding.UTF8.GetBytes(text);
            var random = new Random(seed);
            await using var writer = logs.OpenWriter("web");
            for (var i = 0; i < bytes.Length;)
            {
                var size = Math.Min(bytes.Length - i, random.Next(1, 300));
                await writer.WriteAsync(bytes.AsMemory(i, size));
                i += size;
                if (random.Next(4) == 0)
                {
                    await Task.Yield();
                }
            }
        }

        await Task.WhenAll(Task.Run(() => Produce("out", 1)), Task.Run(() => Produce("err", 2)));

        var lines = File.ReadAllLines(Path.Combine(_directory, "web.log"));
        Assert.That(lines, Has.Length.EqualTo(4000));
        foreach (var name in new[] { "out", "err" })
        {
            var own = lines.Where(line => line.StartsWith(Stamp + name + " ", StringComparison.Ordinal)).ToList();
            Assert.That(
                own,
                Is.EqualTo(Enumerable.Range(0, 2000).Select(i => $"{Stamp}{name} {i:D5} {new string('x', i % 97)}")),
                name);
        }
    }

    [Test]
    public async Task A_line_longer_than_64_KiB_is_stored_as_several_lines()
    {
        await using var logs = Create();
        await using (var writer = logs.OpenWriter("web"))
        {
            await WriteAsync(writer, new string('x', 200_000) + "\nshort\n");
        }

        var lines = await logs.ReadLastLinesAsync("web", 10);

        Assert.That(
            lines.Select(line => line.Length - Stamp.Length),
            Is.EqualTo(new[] { 65_536, 65_536, 65_536, 200_000 - (3 * 65_536), 5 }));
    }

    [Test]
    public async Task Bytes_are_stored_as_written_and_invalid_UTF8_is_replaced_when_read()
    {
        await using var logs = Create();
        await using (var writer = logs.OpenWriter("web"))
        {
            await writer.WriteAsync(new byte[] { (byte)'f', 0xFF, (byte)'g', (byte)' ', 0xC3, 0xA9, (byte)'\n' });
        }

        var stored = File.ReadAllBytes(Path.Combine(_directory, "web.log"));
        Assert.That(stored.AsSpan(Stamp.Length).ToArray(), Is.EqualTo(new byte[] { (byte)'f', 0xFF, (byte)'g', (byte)' ', 0xC3, 0xA9, (byte)'\n' }));
        Assert.That(await logs.ReadLastLinesAsync("web", 1), Is.EqualTo(new[] { Stamp + "f\uFFFDg é" }));
    }

    [Test]
    public async Task Rotation_keeps_exactly_MaxFiles_old_files_with_the_newest_in_dot_1()
    {
        // Each stamped line is 32 bytes, so exactly 32 fit in 1024.
        await using var logs = Create(maxFileBytes: 1024, maxFiles: 3);
        await using (var writer = logs.OpenWriter("web"))
        {
            await WriteAsync(writer, NumberedLines(1, 200));
        }

        Assert.Multiple(() =>
        {
            Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal),
                Is.EqualTo(new[] { "web.log", "web.log.1", "web.log.2", "web.log.3" }));
            Assert.That(ReadLog("web.log"), Is.EqualTo(Stamped(193, 200)));
            Assert.That(ReadLog("web.log.1"), Is.EqualTo(Stamped(161, 192)));
            Assert.That(ReadLog("web.log.2"), Is.EqualTo(Stamped(129, 160)));
            Assert.That(ReadLog("web.log.3"), Is.EqualTo(Stamped(97, 128)));
            Assert.That(new FileInfo(Path.Combine(_directory, "web.log.1")).Length, Is.EqualTo(1024));
        });
    }

    [Test]
    public async Task Rotation_with_MaxFiles_zero_starts_the_file_again()
    {
        await using var logs = Create(maxFileBytes: 1024, maxFiles: 0);
        await using (var writer = logs.OpenWriter("web"))
        {
            await WriteAsync(writer, NumberedLines(1, 40));
        }

        Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName), Is.EqualTo(new[] { "web.log" }));
        Assert.That(ReadLog("web.log"), Is.EqualTo(Stamped(33, 40)));
    }

    [Test]
    public async Task A_writer_opened_later_appends_and_rotates_an_existing_file()
    {
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(Path.Combine(_directory, "web.log"), Stamped(1, 30));
        await using var logs = Create(maxFileBytes: 1024, maxFiles: 2);
        await using (var writer = logs.OpenWriter("web"))
        {
            await WriteAsync(writer, NumberedLines(31, 40));
        }

        Assert.That(ReadLog("web.log.1"), Is.EqualTo(Stamped(1, 32)));
        Assert.That(ReadLog("web.log"), Is.EqualTo(Stamped(33, 40)));
    }

    [Test]
    public async Task Tail_reaches_into_rotated_files()
    {
        await using var logs = Create(maxFileBytes: 1024, maxFiles: 3);
        await using (var writer = logs.OpenWriter("web"))
        {
            await WriteAsync(writer, NumberedLines(1, 200));
        }

        Assert.That(await logs.ReadLastLinesAsync("web", 50), Is.EqualTo(StampedList(151, 200)));
        Assert.That(await logs.ReadLastLinesAsync("web", 8), Is.EqualTo(StampedList(193, 200)));
        Assert.That(await logs.ReadLastLinesAsync("web", 1000), Is.EqualTo(StampedList(97, 200)));
    }

    [Test]
    public async Task Tail_handles_zero_counts_short_files_and_missing_logs()
    {
        await using var logs = Create();
        Assert.That(await logs.ReadLastLinesAsync("missing", 10), Is.Empty);

        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(Path.Combine(_directory, "empty.log"), "");
        await File.WriteAllTextAsync(Path.Combine(_directory, "short.log"), "one\n\nthree\nno newline");
        await File.WriteAllTextAsync(Path.Combine(_directory, "blank.log"), "\n");

        Assert.Multiple(async () =>
        {
            Assert.That(await logs.ReadLastLinesAsync("empty", 10), Is.Empty);
            Assert.That(await logs.ReadLastLinesAsync("short", 0), Is.Empty);
            Assert.That(await logs.ReadLastLinesAsync("short", 100), Is.EqualTo(new[] { "one", "", "three", "no newline" }));
            Assert.That(await logs.ReadLastLinesAsync("short", 2), Is.EqualTo(new[] { "three", "no newline" }));
            Assert.That(await logs.ReadLastLinesAsync("blank", 5), Is.EqualTo(new[] { "" }));
        });
        Assert.That(async () => await logs.ReadLastLinesAsync("short", -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public async Task Tail_of_a_huge_log_reads_only_its_end()
    {
        // 64 GiB, sparse: reading it all would take far longer than the bound below, writing it costs nothing.
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "big.log");
        await using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            stream.SetLength(64L << 30);
            stream.Seek(0, SeekOrigin.End);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(NumberedLines(1, 1000)));
        }

        await using var logs = Create();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var lines = await logs.ReadLastLinesAsync("big", 100);
        watch.Stop();

        Assert.That(lines, Is.EqualTo(Enumerable.Range(901, 100).Select(i => $"line {i:D4}")));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public async Task Follow_yields_only_lines_written_after_it_was_called_in_order_across_rotations()
    {
        // MaxFiles covers every rotation of this test, so even a follower that has not started reading yet
        // still finds every line in the rotated files.
        await using var logs = Create(maxFileBytes: 1024, maxFiles: 10);
        await using var writer = logs.OpenWriter("web");
        await WriteAsync(writer, "before 1\nbefore 2\n");
        using var cancellation = new CancellationTokenSource();

        var follow = logs.FollowAsync("web", cancellation.Token);

        // Written after the call but before enumeration starts: still followed.
        await WriteAsync(writer, NumberedLines(1, 100));
        var received = new List<string>();
        var enumerator = follow.GetAsyncEnumerator();
        var consumer = Task.Run(async () =>
        {
            while (await enumerator.MoveNextAsync())
            {
                lock (received)
                {
                    received.Add(enumerator.Current);
                }
            }
        });

        // Written one by one while the follower waits at the end: each wakes it.
        for (var i = 101; i <= 200; i++)
        {
            await WriteAsync(writer, $"line {i:D4}\n");
        }

        await WaitUntil(() => Count(received) >= 200 || consumer.IsCompleted);

        Assert.That(Snapshot(received), Is.EqualTo(StampedList(1, 200)));
        Assert.That(File.Exists(Path.Combine(_directory, "web.log.6")), Is.True, "the test should have rotated six times");

        await cancellation.CancelAsync();
        Assert.That(async () => await consumer.WaitAsync(TimeSpan.FromSeconds(20)), Throws.InstanceOf<OperationCanceledException>());
        await enumerator.DisposeAsync();
    }

    [Test]
    public async Task Follow_of_a_service_without_a_log_sees_its_first_lines()
    {
        await using var logs = Create();
        using var cancellation = new CancellationTokenSource();
        var received = new List<string>();

        // Called here, not inside the task, so that the start is certainly before the write below.
        var follow = logs.FollowAsync("web", cancellation.Token);
        var consumer = Task.Run(async () =>
        {
            await foreach (var line in follow)
            {
                lock (received)
                {
                    received.Add(line);
                }
            }
        });

        await using (var writer = logs.OpenWriter("web"))
        {
            await WriteAsync(writer, "first\nsecond\n");
        }

        await WaitUntil(() => Count(received) >= 2 || consumer.IsCompleted);

        Assert.That(Snapshot(received), Is.EqualTo(new[] { Stamp + "first", Stamp + "second" }));
        await cancellation.CancelAsync();
        Assert.That(async () => await consumer.WaitAsync(TimeSpan.FromSeconds(20)), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task Follow_ends_when_the_store_is_disposed()
    {
        var logs = Create();
        await using (var writer = logs.OpenWriter("web"))
        {
            await WriteAsync(writer, "old\n");
        }

        var received = new List<string>();
        var follow = logs.FollowAsync("web");
        var consumer = Task.Run(async () =>
        {
            await foreach (var line in follow)
            {
                received.Add(line);
            }
        });

        await Task.Delay(50);
        await logs.DisposeAsync();

        await consumer.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(received, Is.Empty);
    }

    [Test]
    public async Task Over_the_rate_limit_lines_are_dropped_and_one_marker_counts_them_when_the_interval_ends()
    {
        const string Marker = "lines dropped: rate limit (LogRateLimitBurst=3 per LogRateLimitIntervalSec=10s)";
        await using var logs = Create();
        await using (var writer = logs.OpenWriter("web", new LogRateLimit(3, TimeSpan.FromSeconds(10))))
        {
            await WriteAsync(writer, NumberedLines(1, 10));
            _time.Advance(TimeSpan.FromSeconds(9));
            await WriteAsync(writer, NumberedLines(11, 12));
            _time.Advance(TimeSpan.FromSeconds(1));

            // The interval has ended: the marker comes first, then this interval's three lines.
            await WriteAsync(writer, NumberedLines(13, 17));
            Assert.That(
                ReadLog("web.log"),
                Is.EqualTo(Stamped(1, 3) + $"[2024-03-05 10:08:19] gitproc: 9 {Marker}\n" + Stamped(13, 15).Replace("10:08:09", "10:08:19", StringComparison.Ordinal)));
        }

        // The last writer closed (the service stopped): lines dropped in the current interval are announced now.
        Assert.That(ReadLog("web.log"), Does.EndWith($"[2024-03-05 10:08:19] line 0015\n[2024-03-05 10:08:19] gitproc: 2 {Marker}\n"));
    }

    [Test]
    public async Task An_interval_starts_with_the_first_output_after_the_last_one_ended_and_one_without_drops_leaves_no_marker()
    {
        await using var logs = Create();
        await using var writer = logs.OpenWriter("web", new LogRateLimit(2, TimeSpan.FromSeconds(10)));
        await WriteAsync(writer, NumberedLines(1, 2));
        _time.Advance(TimeSpan.FromSeconds(25));

        // A new interval from here (t = 25 s to 35 s), not from a grid of 10 s steps (which would start one at 30 s).
        await WriteAsync(writer, NumberedLines(3, 5));
        _time.Advance(TimeSpan.FromSeconds(9));
        await WriteAsync(writer, NumberedLines(6, 6));
        _time.Advance(TimeSpan.FromSeconds(1));
        await WriteAsync(writer, NumberedLines(7, 7));

        var lines = await logs.ReadLastLinesAsync("web", 100);
        Assert.That(lines.Select(line => line[Stamp.Length..]), Is.EqualTo(new[]
        {
            "line 0001", "line 0002", "line 0003", "line 0004",
            "gitproc: 2 lines dropped: rate limit (LogRateLimitBurst=2 per LogRateLimitIntervalSec=10s)", "line 0007",
        }));
    }

    [Test]
    public async Task The_rate_limit_is_the_services_counted_over_all_its_writers()
    {
        await using var logs = Create();
        var limit = new LogRateLimit(5, TimeSpan.FromMinutes(1));
        await using (var stdout = logs.OpenWriter("web", limit))
        await using (var post = logs.OpenWriter("web", limit))
        {
            await WriteAsync(stdout, "out 1\nout 2\nout 3\n");
            await WriteAsync(post, "post 1\npost 2\npost 3\n");
            await WriteAsync(stdout, "out 4\n");
        }

        Assert.That(
            ReadLog("web.log"),
            Is.EqualTo($"{Stamp}out 1\n{Stamp}out 2\n{Stamp}out 3\n{Stamp}post 1\n{Stamp}post 2\n{Stamp}gitproc: 2 lines dropped: rate limit (LogRateLimitBurst=5 per LogRateLimitIntervalSec=1min)\n"));
    }

    [TestCase(0, 10)]
    [TestCase(5, 0)]
    [TestCase(0, 0)]
    public async Task A_rate_limit_with_a_zero_burst_or_interval_stores_every_line(int burst, int seconds)
    {
        await using var logs = Create();
        await using (var writer = logs.OpenWriter("web", new LogRateLimit(burst, TimeSpan.FromSeconds(seconds))))
        {
            await WriteAsync(writer, NumberedLines(1, 500));
        }

        Assert.That(ReadLog("web.log"), Is.EqualTo(Stamped(1, 500)));
    }

    [Test]
    public async Task A_writer_opened_with_another_limit_changes_the_services_limit()
    {
        await using var logs = Create();
        await using (var first = logs.OpenWriter("web", new LogRateLimit(1, TimeSpan.FromMinutes(1))))
        {
            await WriteAsync(first, NumberedLines(1, 3));
        }

        // The unit changed: its new writers come without a limit, and the drops of the old one were announced.
        await using (var second = logs.OpenWriter("web"))
        {
            await WriteAsync(second, NumberedLines(4, 6));
        }

        var lines = await logs.ReadLastLinesAsync("web", 100);
        Assert.That(lines.Select(line => line[Stamp.Length..]), Is.EqualTo(new[]
        {
            "line 0001", "gitproc: 2 lines dropped: rate limit (LogRateLimitBurst=1 per LogRateLimitIntervalSec=1min)",
            "line 0004", "line 0005", "line 0006",
        }));
    }

    [Test]
    public void A_negative_rate_limit_is_refused()
    {
        Assert.That(() => new LogRateLimit(-1, TimeSpan.FromSeconds(1)), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new LogRateLimit(1, TimeSpan.FromSeconds(-1)), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [TestCase("../etc/passwd")]
    [TestCase("a/b")]
    [TestCase(".hidden")]
    [TestCase("..")]
    [TestCase("")]
    [TestCase("with space")]
    [TestCase("ünïcode")]
    [TestCase("nul\0byte")]
    public async Task An_invalid_service_name_is_rejected_by_name(string name)
    {
        await using var logs = Create();

        Assert.That(() => logs.OpenWriter(name), Throws.ArgumentException.With.Message.Contains($"'{name}'"));
        Assert.That(async () => await logs.ReadLastLinesAsync(name, 1), Throws.ArgumentException.With.Message.Contains($"'{name}'"));
        Assert.That(() => logs.FollowAsync(name), Throws.ArgumentException.With.Message.Contains($"'{name}'"));
        Assert.That(Directory.Exists(_directory), Is.False);
    }

    [Test]
    public async Task Every_valid_unit_name_character_is_accepted()
    {
        await using var logs = Create();
        await using (var writer = logs.OpenWriter("Web-1_a.b@c:d"))
        {
            await WriteAsync(writer, "ok\n");
        }

        Assert.That(ReadLog("Web-1_a.b@c:d.log"), Is.EqualTo($"{Stamp}ok\n"));
    }

    [Test]
    public async Task AddGitProc_registers_the_log_store()
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddGitProc(options => options.LogDirectory = _directory);
        await using var provider = services.BuildServiceProvider();

        Assert.That(provider.GetRequiredService<IServiceLogs>(), Is.InstanceOf<ServiceLogs>());
    }

    /// <summary>Waits for a condition, giving up (the assertion after it then fails) after a generous time.</summary>
    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }

    private static int Count(List<string> lines)
    {
        lock (lines)
        {
            return lines.Count;
        }
    }

    private static List<string> Snapshot(List<string> lines)
    {
        lock (lines)
        {
            return [.. lines];
        }
    }

    private static Task WriteAsync(IServiceLogWriter writer, string text) => writer.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

    private static string NumberedLines(int first, int last) =>
        string.Concat(Enumerable.Range(first, last - first + 1).Select(i => $"line {i:D4}\n"));

    private static string Stamped(int first, int last) =>
        string.Concat(StampedList(first, last).Select(line => line + "\n"));

    private static List<string> StampedList(int first, int last) =>
        [.. Enumerable.Range(first, last - first + 1).Select(i => $"{Stamp}line {i:D4}")];

    /// <summary>Short, empty, CRLF, multi-byte, over-long (with and without CRLF) lines, and a partial last one.</summary>
    private static byte[] MixedOutput()
    {
        var text = new StringBuilder();
        var random = new Random(7);
        for (var i = 0; i < 300; i++)
        {
            text.Append(random.Next(6) switch
            {
                0 => "",
                1 => "crlf line\r",
                2 => "héllo wörld ✓ 日本語",
                3 => new string('a', random.Next(1, 200)),
                4 => new string('b', random.Next(65_000, 140_000)),
                _ => new string('c', 65_536) + (random.Next(2) == 0 ? "\r" : ""),
            });
            text.Append('\n');
        }

        text.Append("partial at the end\r");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>The obvious, slow statement of the line rules, to check the fast one against.</summary>
    private static List<string> ReferenceLines(byte[] input)
    {
        var lines = new List<string>();
        var segments = Encoding.UTF8.GetString(input).Split('\n');
        for (var index = 0; index < segments.Length; index++)
        {
            var segment = segments[index];

            // After the last '\n' there is either nothing or a partial line (stored when the writer is disposed).
            if (index == segments.Length - 1 && segment.Length == 0)
            {
                continue;
            }

            // Only ASCII is long in MixedOutput, so counting chars counts bytes there.
            var rest = segment;
            while (rest.Length > 65_536)
            {
                lines.Add(rest[..65_536]);
                rest = rest[65_536..];
            }

            lines.Add(rest.EndsWith('\r') ? rest[..^1] : rest);
        }

        return lines;
    }

    private string ReadLog(string name) => File.ReadAllText(Path.Combine(_directory, name));

    private ServiceLogs Create(long maxFileBytes = 10 * 1024 * 1024, int maxFiles = 5) =>
        new(
            Options.Create(new PathOptions { LogDirectory = _directory }),
            Options.Create(new LogOptions { MaxFileBytes = maxFileBytes, MaxFiles = maxFiles }),
            _time,
            NullLogger<ServiceLogs>.Instance);
}
