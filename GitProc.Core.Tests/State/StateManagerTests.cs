using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GitProc.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GitProc.Core.Tests.State;

[TestFixture]
public sealed partial class StateManagerTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private string _directory = null!;
    private string _path = null!;
    private FakeTimeProvider _time = null!;
    private FakeLogger<StateManager> _logger = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = Path.Combine(Path.GetTempPath(), "gitproc-state-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _path = Path.Combine(_directory, "state.json");
        _time = new FakeTimeProvider(Now);
        _logger = new FakeLogger<StateManager>();
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
    public async Task Round_trip_keeps_every_field()
    {
        var state = new SupervisorState
        {
            AppliedCommit = "0123456789abcdef0123456789abcdef01234567",
            RejectedCommit = new RejectedCommit("fedcba9876543210fedcba9876543210fedcba98", "web.service", 7, "web.service:7: RestartSec=soon: not a time span.", Now.AddMinutes(-3)),
            Services = new Dictionary<string, ServiceRecord>
            {
                ["web"] = new()
                {
                    Name = "web",
                    Status = ServiceStatus.Running,
                    Pid = 4242,
                    ProcessStartTicks = 987654321,
                    StartTime = new DateTimeOffset(2026, 3, 4, 1, 2, 3, TimeSpan.FromHours(2)),
                    RestartCount = 3,
                    LastExitCode = 137,
                    ManuallyStopped = false,
                },
                ["batch"] = new() { Name = "batch", Status = ServiceStatus.Failed, LastExitCode = 1 },
                ["idle"] = new() { Name = "idle", Status = ServiceStatus.Stopped, ManuallyStopped = true },
            },
        };
        var manager = CreateManager();

        await manager.SaveAsync(state);
        var loaded = await CreateManager().LoadAsync();

        Assert.That(loaded.AppliedCommit, Is.EqualTo(state.AppliedCommit));
        Assert.That(loaded.RejectedCommit, Is.EqualTo(state.RejectedCommit));
        Assert.That(loaded.Services.Keys, Is.EquivalentTo(state.Services.Keys));
        foreach (var (name, service) in state.Services)
        {
            Assert.That(loaded.Services[name], Is.EqualTo(service), name);
        }

        Assert.That(loaded.Services["web"].StartTime!.Value.Offset, Is.EqualTo(TimeSpan.FromHours(2)));
    }

    [Test]
    public async Task File_is_versioned_snake_case_json_with_lowercase_statuses_and_iso_times()
    {
        await CreateManager().SaveAsync(new SupervisorState
        {
            AppliedCommit = "abc",
            Services = new Dictionary<string, ServiceRecord>
            {
                ["web"] = new() { Name = "web", Status = ServiceStatus.Running, Pid = 10, StartTime = Now, RestartCount = 2, ManuallyStopped = true },
            },
        });

        var text = await File.ReadAllTextAsync(_path);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        var web = root.GetProperty("services").GetProperty("web");

        Assert.That(root.GetProperty("version").GetInt32(), Is.EqualTo(1));
        Assert.That(root.GetProperty("applied_commit").GetString(), Is.EqualTo("abc"));
        Assert.That(web.GetProperty("status").GetString(), Is.EqualTo("running"));
        Assert.That(web.GetProperty("pid").GetInt32(), Is.EqualTo(10));
        Assert.That(web.GetProperty("start_time").GetString(), Is.EqualTo("2026-03-04T05:06:07+00:00"));
        Assert.That(web.GetProperty("restart_count").GetInt32(), Is.EqualTo(2));
        Assert.That(web.GetProperty("manually_stopped").GetBoolean(), Is.True);
        Assert.That(web.TryGetProperty("process_start_ticks", out _), Is.True);
        Assert.That(web.TryGetProperty("last_exit_code", out _), Is.True);
        Assert.That(text, Does.Contain("\n  "), "indented");
    }

    [Test]
    public async Task Missing_file_loads_as_an_empty_state_and_creates_nothing()
    {
        var state = await CreateManager().LoadAsync();

        Assert.That(state.AppliedCommit, Is.Null);
        Assert.That(state.RejectedCommit, Is.Null);
        Assert.That(state.Services, Is.Empty);
        Assert.That(Directory.EnumerateFileSystemEntries(_directory), Is.Empty);
        Assert.That(_logger.Collector.GetSnapshot().Where(e => e.Level >= LogLevel.Warning), Is.Empty);
    }

    [Test]
    public async Task Missing_directories_are_created_on_save()
    {
        _path = Path.Combine(_directory, "a", "b", "state.json");
        var manager = CreateManager();

        Assert.That(await manager.LoadAsync(), Is.Not.Null);
        await manager.SaveAsync(new SupervisorState { AppliedCommit = "deep" });

        Assert.That(File.Exists(_path), Is.True);
        Assert.That((await CreateManager().LoadAsync()).AppliedCommit, Is.EqualTo("deep"));
    }

    [TestCase("{\"version\": 1, \"services\": {", TestName = "Truncated JSON is moved aside")]
    [TestCase("", TestName = "Empty file is moved aside")]
    [TestCase("[]", TestName = "Array instead of object is moved aside")]
    [TestCase("null", TestName = "Null document is moved aside")]
    [TestCase("{\"services\": {}}", TestName = "Missing version is moved aside")]
    [TestCase("{\"version\": 2, \"services\": {}}", TestName = "Unknown version is moved aside")]
    [TestCase("{\"version\": 1, \"services\": {\"a\": {\"name\": \"a\", \"status\": \"paused\"}}}", TestName = "Unknown status is moved aside")]
    [TestCase("{\"version\": 1, \"services\": {\"a\": {\"name\": \"a\", \"status\": 1}}}", TestName = "Numeric status is moved aside")]
    [TestCase("{\"version\": 1, \"services\": {\"a\": null}}", TestName = "Null service entry is moved aside")]
    [TestCase("{\"version\": 1, \"services\": {\"a\": {\"status\": \"running\"}}}", TestName = "Service without name is moved aside")]
    [TestCase("{\"version\": 1, \"rejected_commit\": {\"file\": \"x\"}}", TestName = "Rejected commit without its fields is moved aside")]
    [TestCase("{\"version\": 1, \"services\": {\"a\": {\"name\": \"a\", \"restart_count\": \"many\"}}}", TestName = "Wrong value type is moved aside")]
    public async Task Unreadable_file_is_moved_aside_intact_logged_and_replaced_by_an_empty_state(string content)
    {
        await File.WriteAllTextAsync(_path, content);

        var state = await CreateManager().LoadAsync();

        var corruptPath = _path + ".corrupt-20260304T050607Z";
        Assert.That(state.Services, Is.Empty);
        Assert.That(state.AppliedCommit, Is.Null);
        Assert.That(File.Exists(_path), Is.False);
        Assert.That(File.Exists(corruptPath), Is.True);
        Assert.That(await File.ReadAllTextAsync(corruptPath), Is.EqualTo(content));
        var warning = _logger.Collector.GetSnapshot().Single(e => e.Level == LogLevel.Warning);
        Assert.That(warning.Id.Id, Is.EqualTo(500));
        Assert.That(warning.Message, Does.Contain(_path).And.Contain(corruptPath));
    }

    [Test]
    public async Task Invalid_utf8_is_moved_aside_byte_for_byte()
    {
        byte[] garbage = [0x7B, 0xFF, 0xFE, 0x00, 0xC3, 0x28, 0x7D];
        await File.WriteAllBytesAsync(_path, garbage);

        await CreateManager().LoadAsync();

        Assert.That(await File.ReadAllBytesAsync(_path + ".corrupt-20260304T050607Z"), Is.EqualTo(garbage));
    }

    [Test]
    public async Task After_moving_a_corrupt_file_aside_the_next_save_and_load_work()
    {
        await File.WriteAllTextAsync(_path, "not json");
        var manager = CreateManager();
        await manager.LoadAsync();

        await manager.SaveAsync(new SupervisorState { AppliedCommit = "fresh" });

        Assert.That((await CreateManager().LoadAsync()).AppliedCommit, Is.EqualTo("fresh"));
        Assert.That(await File.ReadAllTextAsync(_path + ".corrupt-20260304T050607Z"), Is.EqualTo("not json"));
    }

    [Test]
    public async Task Two_corrupt_files_in_the_same_second_are_both_kept()
    {
        await File.WriteAllTextAsync(_path, "first");
        await CreateManager().LoadAsync();
        await File.WriteAllTextAsync(_path, "second");
        await CreateManager().LoadAsync();

        Assert.That(await File.ReadAllTextAsync(_path + ".corrupt-20260304T050607Z"), Is.EqualTo("first"));
        Assert.That(await File.ReadAllTextAsync(_path + ".corrupt-20260304T050607Z-2"), Is.EqualTo("second"));
    }

    [Test]
    public async Task Corrupt_file_name_uses_the_injected_clock_in_utc()
    {
        _time.SetUtcNow(new DateTimeOffset(2030, 12, 31, 23, 59, 58, TimeSpan.Zero));
        await File.WriteAllTextAsync(_path, "{");

        await CreateManager().LoadAsync();

        Assert.That(File.Exists(_path + ".corrupt-20301231T235958Z"), Is.True);
    }

    [Test]
    public async Task The_map_key_names_the_service()
    {
        await File.WriteAllTextAsync(_path, "{\"version\": 1, \"services\": {\"web\": {\"name\": \"other\", \"status\": \"failed\"}}}");

        var state = await CreateManager().LoadAsync();

        Assert.That(state.Services["web"].Name, Is.EqualTo("web"));
        Assert.That(state.Services["web"].Status, Is.EqualTo(ServiceStatus.Failed));
    }

    [Test]
    public async Task Unknown_fields_of_the_current_version_are_ignored()
    {
        await File.WriteAllTextAsync(_path, "{\"version\": 1, \"note\": \"hand-edited\", \"applied_commit\": \"c1\", \"services\": {}}");

        var state = await CreateManager().LoadAsync();

        Assert.That(state.AppliedCommit, Is.EqualTo("c1"));
        Assert.That(File.Exists(_path), Is.True);
    }

    [Test]
    public async Task Leftover_temporary_files_of_dead_writers_are_removed_at_load()
    {
        await CreateManager().SaveAsync(new SupervisorState { AppliedCommit = "kept" });
        var deadWriter = _path + ".tmp-999999999-0123abcd";
        var ownLeftover = _path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-feed";
        var unparsable = _path + ".tmp-garbage";
        var liveWriter = _path + ".tmp-1-beef";
        var unrelated = Path.Combine(_directory, "other.json.tmp-999999999-1");
        foreach (var file in new[] { deadWriter, ownLeftover, unparsable, liveWriter, unrelated })
        {
            await File.WriteAllTextAsync(file, "{\"version\": 1, \"serv");
        }

        var state = await CreateManager().LoadAsync();

        Assert.That(state.AppliedCommit, Is.EqualTo("kept"));
        Assert.That(File.Exists(deadWriter), Is.False);
        Assert.That(File.Exists(ownLeftover), Is.False);
        Assert.That(File.Exists(unparsable), Is.False);
        Assert.That(File.Exists(liveWriter), Is.True, "pid 1 is alive: its write may be in progress");
        Assert.That(File.Exists(unrelated), Is.True);
        Assert.That(_logger.Collector.GetSnapshot().Count(e => e.Id.Id == 501), Is.EqualTo(3));
    }

    [Test]
    public async Task Save_leaves_no_temporary_file_behind()
    {
        var manager = CreateManager();
        for (var i = 0; i < 5; i++)
        {
            await manager.SaveAsync(new SupervisorState { AppliedCommit = $"c{i}" });
        }

        Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName), Is.EqualTo(new[] { "state.json" }));
    }

    [Test]
    public async Task Concurrent_saves_are_serialized_and_the_last_call_wins()
    {
        var manager = CreateManager();

        var saves = Enumerable.Range(0, 200)
            .Select(i => manager.SaveAsync(new SupervisorState
            {
                AppliedCommit = $"commit-{i}",
                Services = Enumerable.Range(0, i % 30).ToDictionary(j => $"s{j}", j => new ServiceRecord { Name = $"s{j}", RestartCount = i }),
            }))
            .ToList();
        await Task.WhenAll(saves);

        var state = await CreateManager().LoadAsync();
        Assert.That(state.AppliedCommit, Is.EqualTo("commit-199"));
        Assert.That(state.Services, Has.Count.EqualTo(199 % 30));
        Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName), Is.EqualTo(new[] { "state.json" }));
    }

    [Test]
    public async Task Saves_from_many_threads_always_leave_a_whole_file()
    {
        var manager = CreateManager();
        var reader = CreateManager();
        using var stop = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                await manager.SaveAsync(new SupervisorState
                {
                    AppliedCommit = $"w{w}-{i}",
                    Services = Enumerable.Range(0, (i * 7) % 25).ToDictionary(j => $"s{j}", j => new ServiceRecord { Name = $"s{j}" }),
                });
            }
        })).ToList();

        var reads = 0;
        while (!writers.All(t => t.IsCompleted))
        {
            // Reads the file directly, without the manager's lock: a torn file would fail to parse here.
            if (File.Exists(_path))
            {
                using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(_path));
                Assert.That(json.RootElement.GetProperty("version").GetInt32(), Is.EqualTo(1));
                reads++;
            }

            await Task.Yield();
        }

        await Task.WhenAll(writers);
        Assert.That((await reader.LoadAsync()).AppliedCommit, Does.Match("^w[0-3]-39$"));
        Assert.That(_logger.Collector.GetSnapshot().Where(e => e.Level >= LogLevel.Warning), Is.Empty);
    }

    [Test]
    public async Task Cancelled_save_leaves_the_previous_file_unchanged()
    {
        var manager = CreateManager();
        await manager.SaveAsync(new SupervisorState { AppliedCommit = "old" });
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        Assert.That(
            async () => await manager.SaveAsync(new SupervisorState { AppliedCommit = "new" }, cancelled.Token),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That((await manager.LoadAsync()).AppliedCommit, Is.EqualTo("old"));
        Assert.That(Directory.GetFiles(_directory), Has.Length.EqualTo(1));
    }

    [Test]
    public void AddGitProc_registers_one_state_manager_on_the_configured_path()
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddGitProc(o => o.StatePath = _path);
        using var provider = services.BuildServiceProvider();

        var first = provider.GetRequiredService<IStateManager>();

        Assert.That(first, Is.InstanceOf<StateManager>());
        Assert.That(provider.GetRequiredService<IStateManager>(), Is.SameAs(first));
    }

    [Test]
    [Platform(Include = "Linux")]
    [CancelAfter(180_000)]
    public async Task A_writer_killed_at_random_moments_never_leaves_a_torn_file(CancellationToken cancellationToken)
    {
        const int rounds = 25;
        var random = new Random(5150);
        var seen = new HashSet<string>();

        for (var round = 0; round < rounds; round++)
        {
            int pid;
            using (var writer = Process.Start(TestChild.StartInfo("write-state", _path, "100000000"))!)
            {
                pid = writer.Id;
                try
                {
                    var first = await writer.StandardOutput.ReadLineAsync(cancellationToken);
                    Assert.That(first, Is.EqualTo("saved 0"), () => "the writer did not start: " + writer.StandardError.ReadToEnd());
                    await Task.Delay(random.Next(0, 120), cancellationToken);
                }
                finally
                {
                    // SIGKILL: no handler, no flush, no cleanup in the writer.
                    writer.Kill();
                    await writer.WaitForExitAsync(CancellationToken.None);
                }

                Assert.That(writer.HasExited, Is.True);
            }

            Assert.That(Directory.Exists($"/proc/{pid}"), Is.False, $"writer {pid} survived");

            var logger = new FakeLogger<StateManager>();
            var state = await CreateManager(logger).LoadAsync(cancellationToken);

            Assert.That(Directory.GetFiles(_directory, "*.corrupt-*"), Is.Empty, $"round {round}: the state file was torn");
            Assert.That(logger.Collector.GetSnapshot().Where(e => e.Level >= LogLevel.Warning), Is.Empty);
            AssertWholeWriterState(state, round);
            Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName), Is.EqualTo(new[] { "state.json" }), "leftovers are removed at load");
            seen.Add(state.AppliedCommit!);
        }

        // The kills landed at different points of the writer's loop, not always before its second write.
        Assert.That(seen, Has.Count.GreaterThan(1));
    }

    private static void AssertWholeWriterState(SupervisorState state, int round)
    {
        // Mirrors GitProc.TestChild's write-state: state i has commit-i and 1 + i % 40 services with restart count i.
        Assert.That(state.AppliedCommit, Does.Match("^commit-[0-9]+$"), $"round {round}");
        var i = int.Parse(state.AppliedCommit!["commit-".Length..], CultureInfo.InvariantCulture);
        Assert.That(state.Services, Has.Count.EqualTo(1 + (i % 40)), $"round {round}, state {i}");
        foreach (var (name, service) in state.Services)
        {
            Assert.That(service.Name, Is.EqualTo(name));
            Assert.That(service.RestartCount, Is.EqualTo(i), $"round {round}, state {i}, {name}");
            Assert.That(service.StartTime, Is.EqualTo(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddSeconds(i)));
        }
    }

    private StateManager CreateManager(FakeLogger<StateManager>? logger = null) =>
        new(Options.Create(new PathOptions { StatePath = _path }), _time, logger ?? _logger);
}
