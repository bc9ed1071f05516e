using System.Runtime.Versioning;
using GitProc.Core.Tests.TestSupport;
using GitProc.Processes;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Processes;

/// <summary>
/// LimitNOFILE (CONTRACT §2, §9): a service's open-file limit is its unit's, or the daemon's original one — never the
/// raised limit the daemon runs with — and a service whose limit is the daemon's own is spawned without the shim.
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(30_000)]
public sealed class ProcessManagerLimitTests
{
    private readonly List<IServiceProcess> _started = [];
    private ProcessManager _manager = null!;
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _manager = new ProcessManager();
        _dir = Directory.CreateTempSubdirectory("gitproc-limits-").FullName;
        _started.Clear();
    }

    [TearDown]
    public async Task TearDown()
    {
        foreach (var process in _started)
        {
            await process.StopAsync(9, TimeSpan.FromSeconds(10));
            await process.DisposeAsync();
        }

        _manager.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public async Task A_service_without_LimitNOFILE_gets_the_daemons_original_limit_not_the_raised_one()
    {
        var process = await StartAsync(null);

        var (soft, hard) = ProcScan.OpenFileLimit(process.Info.Pid);

        Assert.That((soft, hard), Is.EqualTo((FileDescriptorLimit.ServiceDefault.Soft, Math.Min(FileDescriptorLimit.ServiceDefault.Hard, FileDescriptorLimit.Current.Hard))));
        if (FileDescriptorLimit.ServiceDefault.Soft != FileDescriptorLimit.Current.Soft)
        {
            Assert.That(soft, Is.Not.EqualTo(FileDescriptorLimit.Current.Soft), "the raised limit is the daemon's alone");
        }
    }

    [TestCase("100", 100UL, 100UL)]
    [TestCase("200:400", 200UL, 400UL)]
    public async Task LimitNOFILE_sets_the_services_soft_and_hard_limits(string value, ulong soft, ulong hard)
    {
        var process = await StartAsync(value);

        Assert.That(ProcScan.OpenFileLimit(process.Info.Pid), Is.EqualTo((soft, hard)));
    }

    [Test]
    public async Task A_hard_limit_above_the_daemons_is_lowered_to_what_the_daemon_may_set()
    {
        var process = await StartAsync("infinity");

        var expected = FileDescriptorLimit.MayRaiseHard ? FileDescriptorLimit.KernelMaximum : FileDescriptorLimit.Current.Hard;
        Assert.That(ProcScan.OpenFileLimit(process.Info.Pid), Is.EqualTo((expected, expected)));
    }

    [Test]
    public async Task Under_the_limit_shim_the_arguments_still_reach_the_program_verbatim()
    {
        string[] arguments = ["a b", "\"quoted\"", "$(id)", "`date`", "x;y", "*", "> out"];
        var output = new CollectingLogWriter();
        var unit = Unit("argv", "LimitNOFILE=100", ["/usr/bin/printf", "%s\\n", .. arguments]);

        var exit = await _manager.RunAsync(new ProcessLaunch(unit, unit.ExecStartCommands[0]) { Output = output, DefaultWorkingDirectory = _dir }, TimeSpan.FromSeconds(20));

        Assert.That(exit.ExitCode, Is.Zero);
        Assert.That(output.Text, Is.EqualTo(string.Join('\n', arguments) + "\n"));
        Assert.That(File.Exists(Path.Join(_dir, "out")), Is.False);
    }

    [Test]
    public async Task A_service_whose_limit_is_the_daemons_own_is_spawned_directly_and_one_that_differs_through_the_shim()
    {
        var current = FileDescriptorLimit.Current;

        var direct = await StartAsync($"{current.Soft}:{current.Hard}");
        var shimmed = await StartAsync("100");

        // The shim execs the program by its resolved path; a direct spawn keeps argv[0] as written.
        Assert.That(Argv0(direct.Info.Pid), Is.EqualTo("sleep"));
        Assert.That(Argv0(shimmed.Info.Pid), Does.EndWith("/sleep"));
    }

    private static UnitFile Unit(string name, string? extra, params string[] argv) =>
        UnitFileParser.Parse(name + ".service", $"[Service]\nExecStart={string.Join(' ', argv.Select(Quote))}\n{extra}\n");

    private static string Quote(string word) => "\"" + word.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private async Task<IServiceProcess> StartAsync(string? limitNoFile)
    {
        var unit = Unit("sleeper", limitNoFile is null ? null : "LimitNOFILE=" + limitNoFile, "sleep", "30");
        var process = await _manager.StartAsync(new ProcessLaunch(unit, unit.ExecStartCommands[0]) { DefaultWorkingDirectory = _dir });
        _started.Add(process);

        // Past the shim's exec: the program itself runs.
        Assert.That(await WaitForAsync(() => File.ReadAllText($"/proc/{process.Info.Pid}/comm").Trim() == "sleep"), Is.True);
        return process;
    }

    private static async Task<bool> WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        return condition();
    }

    private static string Argv0(int pid) => File.ReadAllText($"/proc/{pid}/cmdline").Split('\0')[0];
}
