using System.Text;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.UnitFiles;

/// <summary>
/// Seeded, deterministic random testing: thousands of generated unit files and mutations of real ones. Whatever
/// the input, the parser either returns a consistent unit or throws <see cref="UnitFileParseException"/>.
/// </summary>
public class UnitFileParserFuzzTests
{
    private const int Seed = 20_260_417;
    private const int GeneratedFiles = 5_000;
    private const int MutatedFiles = 5_000;

    private static readonly string[] Keys =
    [
        "Description", "After", "Requires", "Wants", "StartLimitBurst", "StartLimitIntervalSec", "StartLimitInterval",
        "Type", "ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecReload", "Restart", "RestartSec",
        "RestartSteps", "RestartMaxDelaySec", "TimeoutStopSec", "TimeoutSec", "KillSignal", "User", "Group",
        "WorkingDirectory", "Environment", "EnvironmentFile", "MemoryMax", "MemoryLimit", "CPUQuota", "TasksMax",
        "HealthCheckURL", "HealthCheckInterval", "HealthCheckTimeout", "HealthCheckRetries", "LogRateLimitIntervalSec", "LogRateLimitBurst", "WantedBy", "X-Extra",
        "ProtectSystem", "execstart", string.Empty, " ",
    ];

    private static readonly string[] Sections = ["[Unit]", "[Service]", "[Install]", "[X-Mine]", "[service]", "[Socket]", "[Unit", "[]", "[Ser\"vice]", "Unit]"];

    private static readonly string[] Tokens =
    [
        "/usr/bin/app", "-/bin/false", "@/bin/sh", "sh", ":+/bin/x", "!!/bin/y", "--flag", "\"two words\"", "'single'",
        "\"", "'", "\\", "\\x", "\\xc3", "\\xc3\\xa9", "\\u12", "\\U0010FFFF", "\\U00110000", "\\000", "\\377", "\\s",
        "\\;", ";", "$VAR", "${VAR}", "%i", "%n", "A=1", "=", "A", "1A=2", "infinity", "0", "-1", "5", "1.5", ".5",
        "1min30s", "5 parsecs", "99999999999999999999", "18446744073709551615", "50%", "150%", "0%", "101%", "12.5%",
        "512M", "1G 512M", "1.5G", "99999999E", "K", "SIGTERM", "TERM", "9", "65", "SIGRTMIN+3", "RTMAX-99",
        "simple", "exec", "oneshot", "forking", "notify", "idle", "no", "always", "on-failure", "on-watchdog", "bogus",
        "http://127.0.0.1:8080/health", "https://x", "ftp://x", "http://", "db.service", "network.target", "../x",
        "a/b", ".hidden", "-", "~", "-/root", "é", "😀", "\t", "  ", "#", "[", "]", "\u00a0", "\u200b", "\uFEFF",
        "\u0001", "\u001b[31m", "\uFFFD", "%", "\\n", "\\t", "\\\"", "\\'", "x\\", "\"a\\\"b\"", "''", "\"\"",
    ];

    private static readonly string[] Noise =
    [
        "\"", "'", "\\", " ", "\t", "\n", "\r", "\r\n", ";", "#", "[", "]", "=", "-", "@", ":", "+", "!", "%", "$",
        "\0", "\uFEFF", "\uD800", "\uDC00", "é", "😀", "\u0085", "\u2028", "x", "0", "9", ".", "/",
    ];

    [Test]
    [CancelAfter(180_000)]
    public void Nothing_but_UnitFileParseException_ever_escapes(CancellationToken cancellationToken)
    {
        var random = new Random(Seed);
        var seeds = SeedUnits().ToList();
        var failures = new List<string>();
        var outcomes = new int[2];

        for (var i = 0; i < GeneratedFiles && failures.Count < 10; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Check(FileName(random), Generate(random), $"generated #{i}", failures, outcomes);
        }

        for (var i = 0; i < MutatedFiles && failures.Count < 10; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (seedName, seedText) = seeds[random.Next(seeds.Count)];
            var mutated = seedText;
            var rounds = 1 + random.Next(6);
            for (var r = 0; r < rounds; r++)
            {
                mutated = Mutate(random, mutated);
            }

            var name = random.Next(20) == 0 ? FileName(random) : seedName;
            Check(name, mutated, $"mutation #{i} of {seedName}", failures, outcomes);

            var bytes = Encoding.UTF8.GetBytes(mutated);
            MutateBytes(random, bytes.AsSpan());
            CheckBytes(name, bytes, $"byte mutation #{i} of {seedName}", failures, outcomes);
        }

        TestContext.Out.WriteLine($"{outcomes[0]} parsed, {outcomes[1]} refused with UnitFileParseException, {seeds.Count} seed units.");
        Assert.That(failures, Is.Empty, string.Join("\n\n", failures));

        // Both outcomes occur, so the generator really exercises the parser.
        Assert.That(outcomes[0], Is.GreaterThan(100));
        Assert.That(outcomes[1], Is.GreaterThan(100));
    }

    private static void Check(string fileName, string content, string what, List<string> failures, int[] outcomes)
        => Run(() => UnitFileParser.Parse(fileName, content), fileName, () => $"{what}\nfile name: {Escape(fileName)}\ncontent: {Escape(content)}", failures, outcomes);

    private static void CheckBytes(string fileName, byte[] content, string what, List<string> failures, int[] outcomes)
        => Run(() => UnitFileParser.Parse(fileName, content), fileName, () => $"{what}\nfile name: {Escape(fileName)}\nbytes: {Convert.ToHexString(content)}", failures, outcomes);

    private static void Run(Func<UnitFile> parse, string fileName, Func<string> describe, List<string> failures, int[] outcomes)
    {
        UnitFile? unit = null;
        UnitFileParseException? error = null;
        try
        {
            unit = parse();
        }
        catch (UnitFileParseException refused)
        {
            error = refused;
        }
        catch (Exception unexpected)
        {
            failures.Add($"{describe()}\n{unexpected}");
            return;
        }

        var problem = unit is not null ? CheckUnit(unit, fileName) : CheckError(error!, fileName);
        if (problem is not null)
        {
            failures.Add($"{describe()}\n{problem}");
            return;
        }

        outcomes[unit is not null ? 0 : 1]++;
    }

    private static string? CheckUnit(UnitFile unit, string fileName)
    {
        if (unit.FileName != fileName || !UnitFileParser.IsValidServiceName(unit.Name))
        {
            return $"bad name '{unit.Name}'";
        }

        if (unit.ExecStartCommands.Count == 0 || (unit.ExecStartCommands.Count > 1 && unit.Type != ServiceType.Oneshot))
        {
            return "ExecStart invariant broken";
        }

        foreach (var command in unit.ExecStartCommands.Concat(unit.ExecStartPre).Concat(unit.ExecStartPost).Concat(unit.ExecStop).Concat(unit.ExecReload))
        {
            if (command.Arguments.Count == 0 || command.Executable.Length == 0 || command.Arguments.Any(a => a.Contains('\0', StringComparison.Ordinal)))
            {
                return $"bad argv for '{command.CommandLine}'";
            }
        }

        if (unit.CpuQuota is <= 0 || unit.MemoryLimit is <= 0 || unit.TasksMax is <= 0 || unit.HealthCheckRetries < 1
            || unit.HealthCheckInterval <= TimeSpan.Zero || unit.RestartSec < TimeSpan.Zero
            || unit.LogRateLimitBurst < 0 || unit.LogRateLimitInterval < TimeSpan.Zero)
        {
            return "a typed value is out of range";
        }

        return null;
    }

    private static string? CheckError(UnitFileParseException error, string fileName)
    {
        // Every error of the file is reported: the message is one line per error, each naming the file, and the first
        // error is the one the exception's properties describe.
        if (error.Errors.Count == 0 || error.FileName != fileName || error.Line < 0 || error.Reason.Length == 0
            || error.Errors.Any(e => e.FileName != fileName || e.Line < 0 || e.Reason.Length == 0))
        {
            return $"error does not name its file and line: {error.Message}";
        }

        if (error.Errors.Any(e => e.Message[fileName.Length..].Any(c => c is '\n' or '\r' or '\0')))
        {
            return $"an error is not one line: {Escape(error.Message)}";
        }

        if (error.Message != string.Join('\n', error.Errors.Select(e => e.Message)) || !error.Message.StartsWith(fileName, StringComparison.Ordinal))
        {
            return $"the message is not the errors one per line: {Escape(error.Message)}";
        }

        return null;
    }

    private static IEnumerable<(string Name, string Text)> SeedUnits()
    {
        yield return ("web.service", "[Unit]\nDescription=Web\nAfter=db.service network.target\nRequires=db\nWants=cache\nStartLimitBurst=3\nStartLimitIntervalSec=1min\n"
            + "[Service]\nType=simple\nExecStartPre=-/usr/bin/check \"a b\"\nExecStart=/usr/bin/web --port 8080 $OPTS %i\nExecStop=/bin/kill -TERM $MAINPID\n"
            + "ExecReload=/bin/kill -HUP $MAINPID\nRestart=on-failure\nRestartSec=1.5s\nRestartSteps=3\nRestartMaxDelaySec=1min\nTimeoutStopSec=30\n"
            + "KillSignal=SIGINT\nUser=web\nGroup=web\nWorkingDirectory=-/srv/web\nEnvironment=\"A=1\" \"B=two words\"\nEnvironmentFile=-/etc/web.env\n"
            + "MemoryMax=512M\nMemoryLimit=1G\nCPUQuota=150%\nTasksMax=64\nHealthCheckURL=http://127.0.0.1:8080/health\nHealthCheckInterval=10s\n"
            + "HealthCheckTimeout=2s\nHealthCheckRetries=5\nLogRateLimitIntervalSec=30s\nLogRateLimitBurst=1000\n[Install]\nWantedBy=multi-user.target\n");
        yield return ("job.service", "[Service]\r\nType=oneshot\r\nExecStart=/bin/a \\\r\n  --x\r\nExecStart=/bin/b ; /bin/c \\; d\r\n");
        yield return ("getty@.service", "[Service]\nExecStart=-/sbin/agetty -o '-p -- \\\\u' --noclear - $TERM\nType=idle\n");

        if (OperatingSystem.IsLinux() && Directory.Exists("/lib/systemd/system"))
        {
            foreach (var path in Directory.EnumerateFiles("/lib/systemd/system", "*.service").Order(StringComparer.Ordinal))
            {
                var text = File.ReadAllText(path);
                if (text.Length > 0)
                {
                    yield return (Path.GetFileName(path), text);
                }
            }
        }
    }

    private static string FileName(Random random)
    {
        return random.Next(12) switch
        {
            0 => "../x.service",
            1 => ".service",
            2 => "a b.service",
            3 => "units/" + Pick(random, Noise) + "x.service",
            4 => "x.conf",
            5 => new string('n', random.Next(240, 260)) + ".service",
            6 => "dir/",
            7 => "getty@tty" + random.Next(10) + ".service",
            _ => "fuzz.service",
        };
    }

    private static string Generate(Random random)
    {
        var builder = new StringBuilder();
        if (random.Next(10) == 0)
        {
            builder.Append('\uFEFF');
        }

        var newline = random.Next(6) switch
        {
            0 => "\r\n",
            1 => "\r",
            _ => "\n",
        };
        var lines = random.Next(0, 30);
        var inService = false;
        for (var i = 0; i < lines; i++)
        {
            switch (random.Next(12))
            {
                case 0:
                    var section = random.Next(3) == 0 ? "[Unit]" : Pick(random, Sections);
                    inService = section == "[Service]";
                    builder.Append(section);
                    break;
                case 1:
                    builder.Append(Pick(random, ["#", ";", "  #", "\t;"])).Append(RandomValue(random));
                    break;
                case 2:
                    break;
                default:
                    if (!inService && random.Next(3) != 0)
                    {
                        builder.Append("[Service]").Append(newline);
                        inService = true;
                    }

                    builder.Append(Pick(random, Keys)).Append(random.Next(15) == 0 ? " " : string.Empty).Append('=').Append(RandomValue(random));
                    if (random.Next(8) == 0)
                    {
                        builder.Append('\\');
                    }

                    break;
            }

            builder.Append(newline);
        }

        if (random.Next(3) != 0)
        {
            builder.Append("[Service]").Append(newline).Append("ExecStart=").Append(RandomValue(random)).Append(newline);
        }

        return builder.ToString();
    }

    private static string RandomValue(Random random)
    {
        var builder = new StringBuilder();
        var words = random.Next(0, 6);
        for (var i = 0; i < words; i++)
        {
            if (i > 0)
            {
                builder.Append(random.Next(5) == 0 ? "\t" : " ");
            }

            builder.Append(random.Next(6) == 0 ? Pick(random, Noise) : Pick(random, Tokens));
        }

        return builder.ToString();
    }

    private static string Mutate(Random random, string text)
    {
        if (text.Length == 0)
        {
            return Pick(random, Tokens);
        }

        var at = random.Next(text.Length + 1);
        switch (random.Next(9))
        {
            case 0:
                return text.Insert(at, Pick(random, Noise));
            case 1:
                return text.Insert(at, Pick(random, Tokens));
            case 2:
                {
                    var length = Math.Min(random.Next(1, 40), text.Length - Math.Min(at, text.Length - 1));
                    at = Math.Min(at, text.Length - 1);
                    return text.Remove(at, Math.Max(1, Math.Min(length, text.Length - at)));
                }

            case 3:
                {
                    at = Math.Min(at, text.Length - 1);
                    var length = Math.Min(random.Next(1, 80), text.Length - at);
                    return text.Insert(at, text.Substring(at, length));
                }

            case 4:
                {
                    var lines = text.Split('\n');
                    var a = random.Next(lines.Length);
                    var b = random.Next(lines.Length);
                    (lines[a], lines[b]) = (lines[b], lines[a]);
                    return string.Join('\n', lines);
                }

            case 5:
                return text[..at];
            case 6:
                {
                    // Replace a value with something hostile.
                    var lines = text.Split('\n');
                    var index = random.Next(lines.Length);
                    var equals = lines[index].IndexOf('=', StringComparison.Ordinal);
                    if (equals >= 0)
                    {
                        lines[index] = lines[index][..(equals + 1)] + RandomValue(random);
                    }

                    return string.Join('\n', lines);
                }

            case 7:
                {
                    var lines = text.Split('\n');
                    var index = random.Next(lines.Length);
                    lines[index] += random.Next(2) == 0 ? "\\" : " \\";
                    return string.Join('\n', lines);
                }

            default:
                return text.Insert(at, "\n" + Pick(random, Keys) + "=" + RandomValue(random) + "\n");
        }
    }

    private static void MutateBytes(Random random, Span<byte> bytes)
    {
        if (bytes.Length == 0 || random.Next(3) != 0)
        {
            return;
        }

        var flips = 1 + random.Next(3);
        for (var i = 0; i < flips; i++)
        {
            bytes[random.Next(bytes.Length)] = random.Next(3) switch
            {
                0 => (byte)random.Next(0x80, 0x100),
                1 => (byte)random.Next(0, 0x20),
                _ => (byte)random.Next(0, 0x100),
            };
        }
    }

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];

    private static string Escape(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text)
        {
            builder.Append(c is >= ' ' and < '\x7f' ? c.ToString() : $"\\u{(int)c:x4}");
        }

        return builder.ToString();
    }
}
