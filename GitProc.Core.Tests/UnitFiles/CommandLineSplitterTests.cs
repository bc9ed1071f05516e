using System.Diagnostics;
using System.Text.RegularExpressions;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.UnitFiles;

public partial class CommandLineSplitterTests
{
    private static IEnumerable<TestCaseData> RealCommandLines()
    {
        // Command lines from real units, with the argv systemd.service(5) "Command lines" gives for them.
        yield return Case("getty@.service", @"-/sbin/agetty -o '-p -- \\u' --noclear - $TERM", "/sbin/agetty", "-o", @"-p -- \u", "--noclear", "-", "$TERM");
        yield return Case("serial-getty@.service", @"-/sbin/agetty -o '-p -- \\u' --keep-baud 115200,57600,38400,9600 - $TERM", "/sbin/agetty", "-o", @"-p -- \u", "--keep-baud", "115200,57600,38400,9600", "-", "$TERM");
        yield return Case("e2scrub_fail@.service", "/usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_fail \"%I\"", "/usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_fail", "%I");
        yield return Case("dbus.service ExecReload", "/usr/bin/dbus-send --print-reply --system --type=method_call --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig", "/usr/bin/dbus-send", "--print-reply", "--system", "--type=method_call", "--dest=org.freedesktop.DBus", "/", "org.freedesktop.DBus.ReloadConfig");
        yield return Case("man-db.service", "+/usr/bin/install -d -o man -g man -m 0755 /var/cache/man", "/usr/bin/install", "-d", "-o", "man", "-g", "man", "-m", "0755", "/var/cache/man");
        yield return Case("man-db.service (no globbing)", "/usr/bin/find /var/cache/man -type f -name *.gz -atime +6 -delete", "/usr/bin/find", "/var/cache/man", "-type", "f", "-name", "*.gz", "-atime", "+6", "-delete");
        yield return Case("systemd-networkd.service", "!!/lib/systemd/systemd-networkd", "/lib/systemd/systemd-networkd");
        yield return Case("initrd-udevadm-cleanup-db.service", "-udevadm info --cleanup-db", "udevadm", "info", "--cleanup-db");
        yield return Case("pg_basebackup@.service", "/usr/bin/pg_backupcluster %i expirebasebackups $KEEP", "/usr/bin/pg_backupcluster", "%i", "expirebasebackups", "$KEEP");
        yield return Case("initrd-parse-etc.service (argv[0] override dropped)", "@/lib/systemd/system-generators/systemd-fstab-generator systemd-sysroot-fstab-check", "/lib/systemd/system-generators/systemd-fstab-generator");
        yield return Case("nginx.service", "/usr/sbin/nginx -g 'daemon on; master_process on;'", "/usr/sbin/nginx", "-g", "daemon on; master_process on;");
        yield return Case("shell wrapper", "/bin/sh -c 'exec /usr/bin/app --name \"$NAME\" >>/var/log/app.log 2>&1'", "/bin/sh", "-c", "exec /usr/bin/app --name \"$NAME\" >>/var/log/app.log 2>&1");
        yield return Case("docker run", "/usr/bin/docker run --rm --name %n -e \"GREETING=hello world\" nginx:latest", "/usr/bin/docker", "run", "--rm", "--name", "%n", "-e", "GREETING=hello world", "nginx:latest");
        yield return Case("reload by signal", "/bin/kill -HUP $MAINPID", "/bin/kill", "-HUP", "$MAINPID");
        yield return Case("sshd.service", "/usr/sbin/sshd -D $SSHD_OPTS", "/usr/sbin/sshd", "-D", "$SSHD_OPTS");

        static TestCaseData Case(string name, string line, params string[] argv) => new TestCaseData(line, argv).SetName($"Splits real command line: {name}");
    }

    [TestCaseSource(nameof(RealCommandLines))]
    public void Splits_real_command_lines_as_systemd_does(string line, string[] argv)
    {
        Assert.That(CommandLineSplitter.Split(line), Is.EqualTo(argv));
    }

    [TestCase("/bin/echo hello world", new[] { "/bin/echo", "hello", "world" })]
    [TestCase("/bin/echo \t hello\t\tworld  ", new[] { "/bin/echo", "hello", "world" })]
    [TestCase("/bin/echo \"hello world\"", new[] { "/bin/echo", "hello world" })]
    [TestCase("/bin/echo 'single quoted' \"double\"", new[] { "/bin/echo", "single quoted", "double" })]
    [TestCase("/bin/echo a\"b c\"d", new[] { "/bin/echo", "ab cd" })]
    [TestCase("/bin/echo 'a\"b' \"a'b\"", new[] { "/bin/echo", "a\"b", "a'b" })]
    [TestCase("/bin/echo \"\" x ''", new[] { "/bin/echo", "", "x", "" })]
    [TestCase("/bin/echo $HOME ${PATH} %i %n $$", new[] { "/bin/echo", "$HOME", "${PATH}", "%i", "%n", "$$" })]
    [TestCase("/bin/echo a;b \"a ; b\"", new[] { "/bin/echo", "a;b", "a ; b" })]
    [TestCase("/bin/echo a \\; b", new[] { "/bin/echo", "a", ";", "b" })]
    [TestCase("/bin/echo a \\;", new[] { "/bin/echo", "a", ";" })]
    [TestCase("/bin/echo \"a ;\" ';'", new[] { "/bin/echo", "a ;", ";" })]
    public void Splits_words_with_systemd_quoting(string line, string[] argv)
    {
        Assert.That(CommandLineSplitter.Split(line), Is.EqualTo(argv));
    }

    [TestCase(@"/bin/echo \a\b\f\n\r\t\v", "\a\b\f\n\r\t\v")]
    [TestCase(@"/bin/echo \\ \"" \'", "\\")]
    [TestCase(@"/bin/echo a\sb", "a b")]
    [TestCase(@"/bin/echo \x41\102", "AB")]
    [TestCase(@"/bin/echo \xc3\xa9", "é")]
    [TestCase(@"/bin/echo \303\251", "é")]
    [TestCase(@"/bin/echo \u00e9\U0001F600", "é😀")]
    [TestCase(@"/bin/echo ""tab\there""", "tab\there")]
    [TestCase(@"/bin/echo 'it\'s'", "it's")]
    [TestCase(@"/bin/echo ""say \""hi\""""", "say \"hi\"")]
    public void Decodes_C_escapes_inside_and_outside_quotes(string line, string firstArgument)
    {
        Assert.That(CommandLineSplitter.Split(line)[1], Is.EqualTo(firstArgument));
    }

    [TestCase(@"/bin/echo \d", @"\d")]
    [TestCase(@"/bin/echo \$HOME", @"\$HOME")]
    [TestCase(@"/bin/echo \x4", @"\x4")]
    [TestCase(@"/bin/echo \x00", @"\x00")]
    [TestCase(@"/bin/echo \000", @"\000")]
    [TestCase(@"/bin/echo \777", @"\777")]
    [TestCase(@"/bin/echo \ud800", @"\ud800")]
    [TestCase(@"/bin/echo \U00110000", @"\U00110000")]
    public void Keeps_unknown_escapes_as_written_with_a_warning_as_systemd_does(string line, string firstArgument)
    {
        var commands = new List<UnitCommand>();
        var warnings = new List<string>();
        Assert.That(CommandLineSplitter.TryParse(line, commands, warnings, out var error), Is.True, error);
        Assert.That(commands.Single().Arguments[1], Is.EqualTo(firstArgument));
        Assert.That(warnings, Has.One.Contains("Unknown escape sequences are kept as written"));
    }

    [Test]
    public void A_lone_semicolon_separates_commands()
    {
        var commands = new List<UnitCommand>();
        Assert.That(CommandLineSplitter.TryParse("/bin/echo a ; -/bin/echo b c ;", commands, [], out var error), Is.True, error);
        Assert.That(commands.Select(c => c.Arguments), Is.EqualTo(new[] { new[] { "/bin/echo", "a" }, new[] { "/bin/echo", "b", "c" } }));
        Assert.That(commands.Select(c => c.CommandLine), Is.EqualTo(new[] { "/bin/echo a", "/bin/echo b c" }));
        Assert.That(commands.Select(c => c.IgnoreFailure), Is.EqualTo(new[] { false, true }));
    }

    [TestCase("-/bin/false", "-", true)]
    [TestCase("/bin/false", "", false)]
    [TestCase(":/bin/false", ":", false)]
    [TestCase("+/bin/false", "+", false)]
    [TestCase("!/bin/false", "!", false)]
    [TestCase("!!/bin/false", "!!", false)]
    [TestCase("-:+/bin/false", "-:+", true)]
    [TestCase(":-!!/bin/false", ":-!!", true)]
    public void Reads_prefixes_before_the_executable(string line, string prefixes, bool ignoreFailure)
    {
        var commands = new List<UnitCommand>();
        var warnings = new List<string>();
        Assert.That(CommandLineSplitter.TryParse(line, commands, warnings, out var error), Is.True, error);
        var command = commands.Single();
        Assert.That(command.Prefixes, Is.EqualTo(prefixes));
        Assert.That(command.IgnoreFailure, Is.EqualTo(ignoreFailure));
        Assert.That(command.Arguments, Is.EqualTo(new[] { "/bin/false" }));
        Assert.That(command.CommandLine, Is.EqualTo("/bin/false"));
        var unsupported = prefixes.Replace("-", string.Empty, StringComparison.Ordinal);
        Assert.That(warnings, unsupported.Length == 0 ? Is.Empty : Is.Not.Empty);
        Assert.That(warnings, Has.All.Contains("GitProc does not act on it"));
    }

    [TestCase("--/bin/false", "-/bin/false")]
    [TestCase("+!/bin/false", "!/bin/false")]
    [TestCase("!!!/bin/false", "!/bin/false")]
    public void A_prefix_is_taken_once_and_the_rest_is_the_path(string line, string path)
    {
        Assert.That(CommandLineSplitter.Split(line)[0], Is.EqualTo(path));
    }

    [Test]
    public void The_at_prefix_drops_the_argv0_override_with_a_warning()
    {
        var commands = new List<UnitCommand>();
        var warnings = new List<string>();
        Assert.That(CommandLineSplitter.TryParse("-@/bin/sh mysh -c 'echo hi'", commands, warnings, out var error), Is.True, error);
        var command = commands.Single();
        Assert.That(command.Arguments, Is.EqualTo(new[] { "/bin/sh", "-c", "echo hi" }));
        Assert.That(command.IgnoreFailure, Is.True);
        Assert.That(command.CommandLine, Is.EqualTo("/bin/sh mysh -c 'echo hi'"));
        Assert.That(warnings.Single(), Does.Contain("argv[0] override").And.Contains("'mysh'"));
    }

    [Test]
    public void The_command_line_keeps_its_quoting_and_loses_only_the_prefixes()
    {
        var commands = new List<UnitCommand>();
        Assert.That(CommandLineSplitter.TryParse(@"  -/sbin/agetty -o '-p -- \\u'   --noclear  ", commands, [], out _), Is.True);
        Assert.That(commands.Single().CommandLine, Is.EqualTo(@"/sbin/agetty -o '-p -- \\u'   --noclear"));
    }

    [Test]
    public void Relative_executable_paths_are_accepted_with_a_warning()
    {
        var commands = new List<UnitCommand>();
        var warnings = new List<string>();
        Assert.That(CommandLineSplitter.TryParse("./bin/run.sh --fast", commands, warnings, out _), Is.True);
        Assert.That(commands.Single().Executable, Is.EqualTo("./bin/run.sh"));
        Assert.That(warnings.Single(), Does.Contain("relative path"));
    }

    [TestCase("/bin/echo \"unbalanced", "unbalanced double quote")]
    [TestCase("/bin/echo 'unbalanced", "unbalanced single quote")]
    [TestCase("/bin/echo \"escaped end\\\"", "unbalanced double quote")]
    [TestCase("/bin/echo \"trailing backslash\\", "unbalanced double quote")]
    [TestCase("-", "nothing after the prefix '-'")]
    [TestCase("-@", "nothing after the prefix '-@'")]
    [TestCase("''", "empty executable name")]
    [TestCase("@/bin/sh", "gives no argv[0]")]
    [TestCase("/usr/bin/", "names the directory")]
    [TestCase("/usr/bin/..", "names the directory")]
    [TestCase("/bin/a\\\"b x", "contains a control character, quote or backslash")]
    [TestCase("/bin/a\\nb x", "contains a control character, quote or backslash")]
    [TestCase("/bin/a\\db x", "contains a control character, quote or backslash")]
    [TestCase("/bin/echo \\xc3", "not valid UTF-8")]
    [TestCase("/bin/echo \\xc3x", "not valid UTF-8")]
    public void Refuses_malformed_command_lines_with_a_reason(string line, string reason)
    {
        Assert.That(CommandLineSplitter.TryParse(line, [], [], out var error), Is.False);
        Assert.That(error, Does.Contain(reason));
    }

    [Test]
    public void Nothing_but_whitespace_and_semicolons_gives_no_command()
    {
        var commands = new List<UnitCommand>();
        Assert.That(CommandLineSplitter.TryParse(" ; ; ", commands, [], out _), Is.True);
        Assert.That(commands, Is.Empty);
    }

    // systemd-analyze verify cannot print argv, but it reports the executable it would run ("Command X is not
    // executable"), so the first word's quoting and escaping can be compared with the real thing.
    [TestCase("/nonexistent-gitproc/plain")]
    [TestCase("/nonexistent-gitproc/a'b\\x41'c")]
    [TestCase("/nonexistent-gitproc/\"a\\sb\"")]
    [TestCase("/nonexistent-gitproc/a\\x41\\101")]
    [TestCase("/nonexistent-gitproc/\\xc3\\xa9")]
    [TestCase("/nonexistent-gitproc/\\u00e9")]
    [TestCase("/nonexistent-gitproc/a;b")]
    [TestCase("\"/nonexistent-gitproc/x y\"z")]
    [TestCase("'/nonexistent-gitproc/q'")]
    [TestCase(":/nonexistent-gitproc/prefixed")]
    [TestCase("/nonexistent-gitproc/a\\db")]
    [TestCase("/nonexistent-gitproc/a\\\"b")]
    [TestCase("/nonexistent-gitproc/\"unbalanced")]
    [TestCase("/nonexistent-gitproc/dir/")]
    [Platform(Include = "Linux")]
    public void The_executable_matches_what_systemd_analyze_verify_reports(string line)
    {
        var tool = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);
        if (tool is null)
        {
            Assert.Ignore("systemd-analyze is not installed, so there is no systemd to compare with.");
        }

        var directory = Directory.CreateTempSubdirectory("gitproc-verify-");
        try
        {
            var unit = Path.Combine(directory.FullName, "probe.service");
            File.WriteAllText(unit, $"[Service]\nExecStart={line} arg\n");
            var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "verify", "--man=no", unit })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var output = process.StandardError.ReadToEnd() + stdout.Result;
            Assert.That(process.WaitForExit(60_000), Is.True, "systemd-analyze verify did not finish");
            var match = NotExecutable().Match(output);

            var commands = new List<UnitCommand>();
            var accepted = CommandLineSplitter.TryParse($"{line} arg", commands, [], out var error);
            if (match.Success)
            {
                Assert.That(accepted, Is.True, $"systemd accepts it ({output.Trim()}) but we refuse it: {error}");
                Assert.That(commands.Single().Executable, Is.EqualTo(match.Groups[1].Value));
            }
            else
            {
                Assert.That(accepted, Is.False, $"systemd refuses it ({output.Trim()}) but we accept it");
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [GeneratedRegex(@"Command (.+) is not executable")]
    private static partial Regex NotExecutable();
}
