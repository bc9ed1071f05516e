using System.Net;
using System.Runtime.Versioning;
using GitProc.Core.Tests.Supervision;
using GitProc.Core.Tests.TestSupport;
using GitProc.State;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.UnitFiles;

/// <summary>
/// The units Debian packages install on this machine, parsed as the daemon parses them (CONTRACT §2, §11): each parses,
/// with warnings that name what GitProc does not act on, or is refused for one of the documented unsupported features
/// (<see cref="UnsupportedUnits"/>); one whose binary can run safely on loopback runs under the supervisor.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class DebianUnitsTests
{
    private const string Folder = "/lib/systemd/system";

    // What a warning says GitProc does with the setting it names (or the reason it cannot).
    private static readonly string[] IgnoredWording = ["does not act on", "ignored", "runs as simple", "treated as", "not supported", "no effect", "not used by GitProc"];

    [Test]
    public void Every_shipped_service_parses_or_is_refused_for_a_documented_unsupported_feature()
    {
        if (!Directory.Exists(Folder))
        {
            Assert.Ignore($"{Folder} does not exist on this machine (not a systemd system): no Debian units to parse.");
        }

        var parsed = 0;
        var warnings = 0;
        var refused = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var undocumented = new List<string>();
        var vague = new List<string>();
        var files = Directory.EnumerateFiles(Folder, "*.service").Order(StringComparer.Ordinal).ToList();
        foreach (var path in files)
        {
            try
            {
                var unit = UnitFileParser.Parse(path, File.ReadAllBytes(path));
                parsed++;
                warnings += unit.Warnings.Count;
                vague.AddRange(unit.Warnings.Where(w => !NamesWhatIsIgnored(w)).Select(w => $"{Path.GetFileName(path)}:{w.Line}: {w.Message}"));
            }
            catch (UnitFileParseException error)
            {
                if (UnsupportedUnits.Classify(error) is { } reason)
                {
                    (refused.TryGetValue(reason, out var names) ? names : refused[reason] = []).Add(Path.GetFileName(path));
                }
                else
                {
                    undocumented.Add(error.Message);
                }
            }
        }

        TestContext.Out.WriteLine($"{files.Count} units in {Folder}: {parsed} parse ({warnings} warnings), {files.Count - parsed} refused");
        foreach (var (reason, names) in refused)
        {
            TestContext.Out.WriteLine($"  {names.Count} refused, {reason}: {string.Join(' ', names)}");
        }

        Assert.That(undocumented, Is.Empty, "refused for a reason docs/units.md does not list");
        Assert.That(vague, Is.Empty, "warnings must name the setting and say that GitProc does not act on it");
        Assert.That(parsed, Is.GreaterThan(files.Count / 2), "most real units parse");
    }

    private static bool NamesWhatIsIgnored(UnitFileWarning warning) =>
        IgnoredWording.Any(w => warning.Message.Contains(w, StringComparison.Ordinal))
        && (warning.Key is null || warning.Message.Contains(warning.Key, StringComparison.Ordinal) || warning.Message.Contains("prefix", StringComparison.Ordinal));

    [TestCase("nginx.service")]
    [TestCase("ssh.service")]
    [TestCase("cron.service")]
    [TestCase("chrony.service")]
    [TestCase("postgresql@.service")]
    [TestCase("prometheus.service")]
    [TestCase("dbus.service")]
    [TestCase("systemd-journald.service")]
    [TestCase("systemd-logind.service")]
    [TestCase("systemd-timesyncd.service")]
    public void A_well_known_Debian_unit_parses_with_warnings_for_what_GitProc_ignores_or_names_its_unsupported_line(string file)
    {
        var path = Path.Combine(Folder, file);
        if (!File.Exists(path))
        {
            Assert.Ignore($"{path} is not installed on this machine.");
        }

        UnitFile unit;
        try
        {
            unit = UnitFileParser.Parse(path, File.ReadAllBytes(path));
        }
        catch (UnitFileParseException error)
        {
            Assert.That(UnsupportedUnits.Classify(error), Is.Not.Null, error.Message);
            var e = error.Errors[0];
            Assert.That(File.ReadAllLines(path)[e.Line - 1].Trim(), Does.StartWith(e.Key + "="), "the error names the line of the key");
            Assert.That(error.Message, Does.StartWith($"{path}:{e.Line}: {e.Key}"));
            return;
        }

        Assert.That(unit.ExecStartCommands, Is.Not.Empty);
        Assert.That(unit.Warnings, Has.All.Matches<UnitFileWarning>(NamesWhatIsIgnored));
        var lines = File.ReadAllLines(path);
        foreach (var warning in unit.Warnings.Where(w => w.Key is not null && !w.Message.Contains("prefix", StringComparison.Ordinal)))
        {
            Assert.That(lines[warning.Line - 1].TrimStart(), Does.StartWith(warning.Key + "="), $"warning at the key's own line: {warning.Message}");
        }
    }

    [Test]
    public void Debian_s_ssh_unit_reads_its_reload_commands_and_kill_mode()
    {
        var path = Path.Combine(Folder, "ssh.service");
        if (!File.Exists(path))
        {
            Assert.Ignore($"{path} is not installed on this machine.");
        }

        var unit = UnitFileParser.Parse(path, File.ReadAllBytes(path));

        Assert.That(unit.ExecReload.Select(c => c.Arguments), Is.EqualTo(new[] { new[] { "/usr/sbin/sshd", "-t" }, new[] { "/bin/kill", "-HUP", "$MAINPID" } }));
        Assert.That((unit.KillMode, unit.Restart), Is.EqualTo((KillMode.Process, RestartPolicy.OnFailure)));
    }

    /// <summary>
    /// Debian's prometheus.service as shipped (User=prometheus, LimitNOFILE=, ExecReload=/bin/kill -HUP $MAINPID, its
    /// sandboxing keys ignored), with only its EnvironmentFile= pointed at arguments that keep it on loopback and in a
    /// temporary directory: it runs, serves, reloads through its ExecReload= and stops without a trace.
    /// </summary>
    [Test]
    [CancelAfter(60_000)]
    public async Task Debian_s_prometheus_unit_runs_reloads_and_stops_under_the_supervisor()
    {
        var path = Path.Combine(Folder, "prometheus.service");
        if (!File.Exists(path) || !File.Exists("/usr/bin/prometheus"))
        {
            Assert.Ignore("prometheus is not installed on this machine (Debian package prometheus).");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: the unit runs as User=prometheus.");
        }

        var harness = new SupervisorHarness();
        try
        {
            var data = Path.Combine(harness.Root, "data");
            Directory.CreateDirectory(data);
            File.SetUnixFileMode(data, (UnixFileMode)0x1FF);
            File.WriteAllText(Path.Combine(harness.Root, "prometheus.yml"), "global:\n  scrape_interval: 1m\n");
            var port = Scrape.FreePort();
            File.WriteAllText(
                Path.Combine(harness.Root, "env"),
                $"ARGS=\"--config.file={harness.Root}/prometheus.yml --storage.tsdb.path={data} --web.listen-address=127.0.0.1:{port}\"\n");
            var text = File.ReadAllText(path).Replace("EnvironmentFile=/etc/default/prometheus", $"EnvironmentFile={harness.Root}/env", StringComparison.Ordinal);
            Assert.That(text, Does.Contain($"EnvironmentFile={harness.Root}/env"), "the shipped unit reads /etc/default/prometheus");

            await using var supervisor = harness.CreateSupervisor();
            await supervisor.ApplyAsync([UnitFileParser.Parse("prometheus.service", text)]);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            Assert.That(await ProcScan.WaitUntilAsync(() => IsReady(http, port), TimeSpan.FromSeconds(30)), Is.True, "prometheus never became ready on loopback");
            var pid = supervisor.GetStatus("prometheus").Pid;

            var reloaded = await supervisor.ReloadAsync("prometheus");

            Assert.That(reloaded.Pid, Is.EqualTo(pid));
            Assert.That(
                await ProcScan.WaitUntilAsync(() => LoadedConfigurations(harness) >= 2, TimeSpan.FromSeconds(15)),
                Is.True,
                "the ExecReload= kill -HUP $MAINPID made prometheus load its configuration again");
            Assert.That(supervisor.GetStatus("prometheus").Status, Is.EqualTo(ServiceStatus.Running));

            await supervisor.StopAsync("prometheus");
            Assert.That(ProcScan.FindByCommandLine(data), Is.Empty);
        }
        finally
        {
            await harness.DisposeAsync();
        }

        Assert.That(harness.LeftAfterDispose, Is.Empty);
    }

    private static int LoadedConfigurations(SupervisorHarness harness)
    {
        var log = Path.Combine(harness.LogDirectory, "prometheus.log");
        return File.Exists(log) ? File.ReadLines(log).Count(l => l.Contains("Loading configuration file", StringComparison.Ordinal)) : 0;
    }

    private static bool IsReady(HttpClient http, int port)
    {
        try
        {
            return http.GetAsync(new Uri($"http://127.0.0.1:{port}/-/ready")).GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
