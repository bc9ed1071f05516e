using GitProc.UnitFiles;

namespace GitProc.Core.Tests.UnitFiles;

/// <summary>The parser against every real <c>*.service</c> file of the machine running the tests.</summary>
[Platform(Include = "Linux")]
public class RealUnitFilesTests
{
    private const string Folder = "/lib/systemd/system";
    private const string Missing = "(no unit folder)";

    private static IEnumerable<TestCaseData> RealUnits()
    {
        if (!Directory.Exists(Folder))
        {
            yield return new TestCaseData(Missing).SetName("Real units: folder missing");
            yield break;
        }

        foreach (var path in Directory.EnumerateFiles(Folder, "*.service").Order(StringComparer.Ordinal))
        {
            yield return new TestCaseData(path).SetName($"Real unit {Path.GetFileName(path)} parses or is refused for a contract reason");
        }
    }

    [TestCaseSource(nameof(RealUnits))]
    public void Every_real_unit_parses_or_is_refused_for_a_reason_the_contract_gives(string path)
    {
        if (path == Missing)
        {
            Assert.Ignore($"{Folder} does not exist on this machine (not a systemd system), so there are no real units to parse.");
        }

        // Masked units are links to /dev/null: reading them gives an empty file, which is refused as having no ExecStart.
        var bytes = File.ReadAllBytes(path);
        UnitFile unit;
        try
        {
            unit = UnitFileParser.Parse(path, bytes);
        }
        catch (UnitFileParseException error)
        {
            Assert.That(error.Message, Does.StartWith(path + ":"), "the message names the file");
            Assert.That(error.FileName, Is.EqualTo(path));
            var allowed =
                (error.Key == "ExecStart" && error.Value is null && error.Message.Contains("ExecStart=/path/to/program", StringComparison.Ordinal))
                || (error.Key == "ExecStart" && error.Reason.Contains("only Type=oneshot services may have", StringComparison.Ordinal) && error.Line > 0);
            Assert.That(allowed, Is.True, $"refused for a reason the contract does not give: {error.Message}");
            return;
        }

        Assert.That(unit.Name, Is.EqualTo(Path.GetFileName(path)[..^".service".Length]));
        Assert.That(UnitFileParser.IsValidServiceName(unit.Name), Is.True);
        Assert.That(unit.ExecStartCommands, Is.Not.Empty);
        if (unit.Type != ServiceType.Oneshot)
        {
            Assert.That(unit.ExecStartCommands, Has.Count.EqualTo(1));
        }

        // The text parser and the byte parser agree.
        var fromText = UnitFileParser.Parse(path, File.ReadAllText(path));
        Assert.That(fromText.ExecStartCommands.Select(c => c.Arguments), Is.EqualTo(unit.ExecStartCommands.Select(c => c.Arguments)));

        var raw = unit.Sections.TryGetValue("Service", out var service) ? service : null;
        foreach (var command in AllCommands(unit))
        {
            AssertArgvInvariants(path, command);
        }

        // Every raw Exec* value that is not a reset produced at least one command.
        foreach (var key in new[] { "ExecStartPre", "ExecStartPost", "ExecStop", "ExecReload" })
        {
            if (raw is not null && raw.TryGetValue(key, out var values) && values.Count > 0 && values[^1].Length > 0)
            {
                Assert.That(CommandsOf(unit, key), Is.Not.Empty, $"{key} in {path}");
            }
        }

        Assert.That(unit.Warnings, Has.All.Property(nameof(UnitFileWarning.FileName)).EqualTo(path));
        Assert.That(unit.Warnings, Has.All.Property(nameof(UnitFileWarning.Line)).GreaterThan(0));
    }

    private static IEnumerable<TestCaseData> KnownUnits()
    {
        yield return Known("getty@.service", "ExecStart", true, "/sbin/agetty", "-o", @"-p -- \u", "--noclear", "-", "$TERM");
        yield return Known("serial-getty@.service", "ExecStart", true, "/sbin/agetty", "-o", @"-p -- \u", "--keep-baud", "115200,57600,38400,9600", "-", "$TERM");
        yield return Known("console-getty.service", "ExecStart", true, "/sbin/agetty", "-o", @"-p -- \u", "--noclear", "--keep-baud", "-", "115200,38400,9600", "$TERM");
        yield return Known("e2scrub_fail@.service", "ExecStart", false, "/usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_fail", "%I");
        yield return Known("dbus.service", "ExecStart", false, "/usr/bin/dbus-daemon", "--system", "--address=systemd:", "--nofork", "--nopidfile", "--systemd-activation", "--syslog-only");
        yield return Known("dbus.service", "ExecReload", false, "/usr/bin/dbus-send", "--print-reply", "--system", "--type=method_call", "--dest=org.freedesktop.DBus", "/", "org.freedesktop.DBus.ReloadConfig");
        yield return Known("man-db.service", "ExecStart", false, "/usr/bin/install", "-d", "-o", "man", "-g", "man", "-m", "0755", "/var/cache/man");
        yield return Known("systemd-networkd.service", "ExecStart", false, "/lib/systemd/systemd-networkd");
        yield return Known("initrd-parse-etc.service", "ExecStart", false, "/lib/systemd/system-generators/systemd-fstab-generator");
        yield return Known("initrd-udevadm-cleanup-db.service", "ExecStart", true, "udevadm", "info", "--cleanup-db");
        yield return Known("pg_basebackup@.service", "ExecStartPre", false, "/usr/bin/pg_backupcluster", "%i", "createdirectory");
        yield return Known("fstrim.service", "ExecStart", false, "/sbin/fstrim", "--listed-in", "/etc/fstab:/proc/self/mountinfo", "--verbose", "--quiet-unsupported");

        static TestCaseData Known(string file, string key, bool ignoreFailure, params string[] argv)
            => new TestCaseData(file, key, ignoreFailure, argv).SetName($"Real unit {file} {key} splits to the argv systemd gives");
    }

    [TestCaseSource(nameof(KnownUnits))]
    public void Specific_real_units_split_exactly_as_systemd_does(string file, string key, bool ignoreFailure, string[] argv)
    {
        var path = Path.Combine(Folder, file);
        if (!File.Exists(path))
        {
            Assert.Ignore($"{path} is not installed on this machine.");
        }

        var unit = UnitFileParser.Parse(path, File.ReadAllText(path));
        var command = CommandsOf(unit, key)[0];
        Assert.That(command.Arguments, Is.EqualTo(argv));
        Assert.That(command.IgnoreFailure, Is.EqualTo(ignoreFailure));
    }

    [Test]
    public void The_getty_template_reads_its_other_settings_too()
    {
        var path = Path.Combine(Folder, "getty@.service");
        if (!File.Exists(path))
        {
            Assert.Ignore($"{path} is not installed on this machine.");
        }

        var unit = UnitFileParser.Parse(path, File.ReadAllText(path));
        Assert.That(unit.Name, Is.EqualTo("getty@"));
        Assert.That(unit.Description, Is.EqualTo("Getty on %I"));
        Assert.That(unit.After, Does.Contain("systemd-user-sessions").And.Contains("getty-pre.target").And.Contains("rc-local"));
        Assert.That((unit.Type, unit.Restart, unit.RestartSec), Is.EqualTo((ServiceType.Simple, RestartPolicy.Always, TimeSpan.Zero)));
        Assert.That(unit.Warnings, Has.Some.Property(nameof(UnitFileWarning.Key)).EqualTo("Type"));
        Assert.That(unit.Sections["Install"]["DefaultInstance"], Is.EqualTo(new[] { "tty1" }));
    }

    private static void AssertArgvInvariants(string path, UnitCommand command)
    {
        var where = $"{path}: {command.CommandLine}";
        Assert.That(command.Arguments, Is.Not.Empty, where);
        var executable = command.Executable;
        Assert.That(executable, Is.Not.Empty, where);
        var plainName = !executable.Contains('/', StringComparison.Ordinal);
        Assert.That(executable[0] == '/' || executable[0] is '$' or '%' || plainName, Is.True, $"executable is absolute, a name looked up in PATH, or a variable/specifier: {where}");
        Assert.That(executable.IndexOfAny(['"', '\'', '\\']), Is.EqualTo(-1), where);
        Assert.That(command.CommandLine, Does.Not.StartWith("-").And.Not.StartWith("@").And.Not.StartWith("+").And.Not.StartWith("!").And.Not.StartWith(":"), where);
        Assert.That(command.CommandLine, Does.StartWith(executable).Or.Contain(executable), where);
        foreach (var argument in command.Arguments)
        {
            // Balanced quoting is removed: no argument is still wrapped in the quotes that grouped it.
            var wrapped = argument.Length >= 2 && argument[0] is '"' or '\'' && argument[^1] == argument[0];
            Assert.That(wrapped, Is.False, $"argument {argument} keeps its quotes: {where}");
        }

        // Quotes group words, so there are never more arguments than whitespace-separated pieces of the line.
        var pieces = command.CommandLine.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.That(command.Arguments, Has.Count.LessThanOrEqualTo(pieces), where);
    }

    private static IEnumerable<UnitCommand> AllCommands(UnitFile unit)
        => unit.ExecStartCommands.Concat(unit.ExecStartPre).Concat(unit.ExecStartPost).Concat(unit.ExecStop).Concat(unit.ExecReload);

    private static IReadOnlyList<UnitCommand> CommandsOf(UnitFile unit, string key) => key switch
    {
        "ExecStart" => unit.ExecStartCommands,
        "ExecStartPre" => unit.ExecStartPre,
        "ExecStartPost" => unit.ExecStartPost,
        "ExecStop" => unit.ExecStop,
        "ExecReload" => unit.ExecReload,
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, null),
    };
}
