using System.Globalization;
using System.Text;
using GitProc.UnitFiles;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace GitProc.Core.Tests.UnitFiles;

public class UnitFileParserTests
{
    private const string Minimal = "[Service]\nExecStart=/usr/bin/app\n";

    private static UnitFile Parse(string content, string fileName = "web.service") => UnitFileParser.Parse(fileName, content);

    private static UnitFile Service(string serviceLines) => Parse($"[Service]\nExecStart=/usr/bin/app\n{serviceLines}\n");

    private static UnitFileParseException Refused(string content, string fileName = "web.service")
        => Assert.Throws<UnitFileParseException>(() => UnitFileParser.Parse(fileName, content))!;

    private static UnitFileParseException RefusedService(string serviceLines) => Refused($"[Service]\nExecStart=/usr/bin/app\n{serviceLines}\n");

    // ---- The done criteria: messages a person can act on, naming file, line and key ----

    [Test]
    public void An_unknown_Restart_value_names_file_line_key_and_value()
    {
        var error = Refused("[Unit]\nDescription=Web\n\n[Service]\nExecStart=/usr/bin/web\nRestart=sometimes\n");
        Assert.That(error.Message, Is.EqualTo("web.service:6: Restart=sometimes: The value is not a restart policy; use no, always, on-success, on-failure, on-abnormal, on-abort or on-watchdog."));
        Assert.That((error.FileName, error.Line, error.Key, error.Value), Is.EqualTo(("web.service", 6, "Restart", "sometimes")));
    }

    [Test]
    public void A_CPUQuota_that_is_not_a_percentage_names_file_line_key_and_value()
    {
        var error = Refused("[Service]\nExecStart=/usr/bin/web\nCPUQuota=abc\n");
        Assert.That(error.Message, Is.EqualTo("web.service:3: CPUQuota=abc: The value is not a CPU quota: write a percentage of one CPU such as 50% or 150% (for 1.5 CPUs)."));
    }

    [Test]
    public void A_time_span_in_parsecs_names_file_line_key_and_value()
    {
        var error = Refused("[Service]\nExecStart=/usr/bin/web\nRestartSec=5 parsecs\n");
        Assert.That(error.Message, Does.StartWith("web.service:3: RestartSec=5 parsecs: The value is not a time span: write a number of seconds, or numbers with units such as 500ms, 30s, 5min"));
    }

    [Test]
    public void A_missing_ExecStart_names_the_file_the_section_and_the_key()
    {
        var error = Refused("[Unit]\nDescription=Web\n[Service]\nRestart=always\n");
        Assert.That(error.Message, Is.EqualTo("web.service:3: ExecStart: The unit has no ExecStart=; add ExecStart=/path/to/program under [Service] (the command GitProc runs)."));
        Assert.That(error.Key, Is.EqualTo("ExecStart"));
    }

    [Test]
    public void A_name_that_leaves_its_directory_is_refused_naming_the_file()
    {
        var error = Refused(Minimal, "../x.service");
        Assert.That(error.Message, Does.StartWith("../x.service: The path goes up a directory ('..')"));
        Assert.That(error.Line, Is.Zero);
    }

    // ---- File names ----

    [TestCase("web.service", "web")]
    [TestCase("/srv/units/api.service", "api")]
    [TestCase("units/sub/worker-2.service", "worker-2")]
    [TestCase("getty@.service", "getty@")]
    [TestCase("getty@tty1.service", "getty@tty1")]
    [TestCase("a:b_c.d-e.service", "a:b_c.d-e")]
    public void The_name_is_the_last_segment_without_the_suffix(string fileName, string name)
    {
        var unit = Parse(Minimal, fileName);
        Assert.That(unit.Name, Is.EqualTo(name));
        Assert.That(unit.FileName, Is.EqualTo(fileName));
    }

    [TestCase("web.conf", "is not a service unit")]
    [TestCase("web.service.bak", "is not a service unit")]
    [TestCase("web.Service", "is not a service unit")]
    [TestCase("units/", "names a directory")]
    [TestCase("", "The file name is empty")]
    [TestCase(".service", "The service name is empty")]
    [TestCase(".hidden.service", "starts with '.'")]
    [TestCase("../x.service", "goes up a directory")]
    [TestCase("a/../x.service", "goes up a directory")]
    [TestCase("my web.service", "contains ' '")]
    [TestCase("wéb.service", "contains 'é' (U+00E9)")]
    [TestCase("units/\uFEFFx.service", "contains U+FEFF")]
    [TestCase("units/😀.service", "contains '😀' (U+1F600)")]
    [TestCase("a\\b.service", "contains '\\'")]
    [TestCase("a$b.service", "contains '$'")]
    [TestCase("a\tb.service", "contains U+0009")]
    public void Invalid_file_names_are_refused_naming_the_file(string fileName, string reason)
    {
        var error = Refused(Minimal, fileName);
        Assert.That(error.FileName, Is.EqualTo(fileName));
        Assert.That(error.Message, Does.Contain(reason));
        Assert.That(error.Line, Is.Zero);
    }

    [Test]
    public void A_name_longer_than_systemd_allows_is_refused()
    {
        Assert.That(Parse(Minimal, new string('a', 247) + ".service").Name, Has.Length.EqualTo(247));
        Assert.That(Refused(Minimal, new string('a', 248) + ".service").Message, Does.Contain("at most 255 characters"));
    }

    [TestCase("web", true)]
    [TestCase("getty@tty1", true)]
    [TestCase("", false)]
    [TestCase(".x", false)]
    [TestCase("a/b", false)]
    [TestCase("../x", false)]
    [TestCase(null, false)]
    public void IsValidServiceName_applies_the_contract_rule(string? name, bool valid)
    {
        Assert.That(UnitFileParser.IsValidServiceName(name), Is.EqualTo(valid));
    }

    // ---- Defaults ----

    [Test]
    public void A_minimal_unit_has_the_contract_defaults()
    {
        var unit = Parse(Minimal);
        Assert.Multiple(() =>
        {
            Assert.That(unit.Name, Is.EqualTo("web"));
            Assert.That(unit.ExecStart, Is.EqualTo("/usr/bin/app"));
            Assert.That(unit.ExecStartCommands.Single().Arguments, Is.EqualTo(new[] { "/usr/bin/app" }));
            Assert.That(unit.Description, Is.Null);
            Assert.That(unit.After, Is.Empty);
            Assert.That(unit.Requires, Is.Empty);
            Assert.That(unit.Wants, Is.Empty);
            Assert.That(unit.StartLimitBurst, Is.EqualTo(5));
            Assert.That(unit.StartLimitInterval, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(unit.Type, Is.EqualTo(ServiceType.Simple));
            Assert.That(unit.ExecStartPre, Is.Empty);
            Assert.That(unit.ExecStartPost, Is.Empty);
            Assert.That(unit.ExecStop, Is.Empty);
            Assert.That(unit.ExecReload, Is.Empty);
            Assert.That(unit.Restart, Is.EqualTo(RestartPolicy.No));
            Assert.That(unit.RestartSec, Is.EqualTo(TimeSpan.FromMilliseconds(100)));
            Assert.That(unit.RestartSteps, Is.Zero);
            Assert.That(unit.RestartMaxDelay, Is.Null);
            Assert.That(unit.TimeoutStop, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(unit.KillSignal, Is.EqualTo(15));
            Assert.That(unit.User, Is.Null);
            Assert.That(unit.Group, Is.Null);
            Assert.That(unit.WorkingDirectory, Is.Null);
            Assert.That(unit.WorkingDirectoryOptional, Is.False);
            Assert.That(unit.Environment, Is.Empty);
            Assert.That(unit.EnvironmentFiles, Is.Empty);
            Assert.That(unit.MemoryLimit, Is.Null);
            Assert.That(unit.CpuQuota, Is.Null);
            Assert.That(unit.TasksMax, Is.Null);
            Assert.That(unit.HealthCheckUrl, Is.Null);
            Assert.That(unit.HealthCheckInterval, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(unit.HealthCheckTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(unit.HealthCheckRetries, Is.EqualTo(3));
            Assert.That(unit.LogRateLimitInterval, Is.EqualTo(TimeSpan.Zero));
            Assert.That(unit.LogRateLimitBurst, Is.Zero);
            Assert.That(unit.Warnings, Is.Empty);
        });
    }

    // ---- Syntax (systemd.syntax(7)) ----

    [Test]
    public void Comments_start_with_hash_or_semicolon_only_at_the_beginning_of_a_line()
    {
        var unit = Parse("# comment\n; comment\n   # indented comment\n[Unit]\nDescription=a # not ; a comment\n[Service]\n\t; tab-indented\nExecStart=/usr/bin/app\n");
        Assert.That(unit.Description, Is.EqualTo("a # not ; a comment"));
        Assert.That(unit.Warnings, Is.Empty);
    }

    [Test]
    public void Whitespace_around_keys_and_values_is_trimmed()
    {
        var unit = Parse("  [Unit]  \n  Description  =  spaced out  \t\n[Service]\nExecStart =  /usr/bin/app  \n");
        Assert.That(unit.Description, Is.EqualTo("spaced out"));
        Assert.That(unit.ExecStart, Is.EqualTo("/usr/bin/app"));
    }

    [Test]
    public void A_value_may_contain_equals_signs()
    {
        Assert.That(Service("Environment=A=b=c").Environment["A"], Is.EqualTo("b=c"));
    }

    [TestCase("\r\n")]
    [TestCase("\r")]
    [TestCase("\n")]
    public void Every_line_ending_is_accepted(string newline)
    {
        var unit = Parse(string.Join(newline, "[Unit]", "Description=x", "[Service]", "ExecStart=/usr/bin/app --flag", string.Empty));
        Assert.That((unit.Description, unit.ExecStart), Is.EqualTo(("x", "/usr/bin/app --flag")));
    }

    [TestCase("\r\n")]
    [TestCase("\r")]
    public void Line_numbers_count_each_line_ending_once(string newline)
    {
        var error = Refused(string.Join(newline, "[Unit]", "Description=x", "[Service]", "ExecStart=/usr/bin/app", "Restart=bogus", string.Empty));
        Assert.That(error.Line, Is.EqualTo(5));
        Assert.That(error.Value, Is.EqualTo("bogus"));
    }

    [Test]
    public void A_byte_order_mark_is_accepted_in_text_and_bytes()
    {
        Assert.That(Parse("\uFEFF[Service]\nExecStart=/usr/bin/app\n").ExecStart, Is.EqualTo("/usr/bin/app"));
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(Minimal)).ToArray();
        Assert.That(UnitFileParser.Parse("web.service", bytes).ExecStart, Is.EqualTo("/usr/bin/app"));
    }

    [Test]
    public void A_trailing_backslash_joins_the_next_line_with_a_space()
    {
        var unit = Parse("[Service]\nExecStart=/usr/bin/app \\\n  --one \\\n  --two\nDescription=x\n");
        Assert.That(unit.ExecStartCommands.Single().Arguments, Is.EqualTo(new[] { "/usr/bin/app", "--one", "--two" }));
        Assert.That(unit.ExecStart, Is.EqualTo("/usr/bin/app    --one    --two"));
    }

    [Test]
    public void A_backslash_directly_before_the_line_end_joins_words_with_a_space()
    {
        var unit = Parse("[Unit]\nDescription=ab\\\ncd\n[Service]\nExecStart=/usr/bin/app\n");
        Assert.That(unit.Description, Is.EqualTo("ab cd"));
    }

    [Test]
    public void Comment_lines_inside_a_continuation_are_skipped()
    {
        var unit = Parse("[Service]\nExecStart=/usr/bin/app \\\n# a comment in the middle\n  ; another\n  --flag\n");
        Assert.That(unit.ExecStartCommands.Single().Arguments, Is.EqualTo(new[] { "/usr/bin/app", "--flag" }));
    }

    [Test]
    public void An_escaped_backslash_at_the_end_does_not_continue_the_line()
    {
        var unit = Parse("[Service]\nExecStart=/usr/bin/app a\\\\\nDescription=x\n");
        Assert.That(unit.ExecStartCommands.Single().Arguments, Is.EqualTo(new[] { "/usr/bin/app", "a\\" }));
    }

    [Test]
    public void A_continuation_at_the_end_of_the_file_keeps_its_value()
    {
        var unit = Parse("[Service]\nExecStart=/usr/bin/app --last\\");
        Assert.That(unit.ExecStartCommands.Single().Arguments, Is.EqualTo(new[] { "/usr/bin/app", "--last" }));
    }

    [Test]
    public void An_empty_line_ends_a_continuation()
    {
        var unit = Parse("[Service]\nExecStart=/usr/bin/app \\\n\nRestart=always\n");
        Assert.That(unit.ExecStartCommands.Single().Arguments, Is.EqualTo(new[] { "/usr/bin/app" }));
        Assert.That(unit.Restart, Is.EqualTo(RestartPolicy.Always));
    }

    [Test]
    public void Errors_in_a_continued_value_name_the_line_where_the_key_is()
    {
        var error = Refused("[Service]\nExecStart=/usr/bin/app\nRestartSec=5 \\\n  parsecs\n");
        Assert.That(error.Line, Is.EqualTo(3));
        Assert.That(error.Value, Is.EqualTo("5    parsecs"));
    }

    [Test]
    public void For_a_single_valued_key_the_last_assignment_wins()
    {
        var unit = Parse("[Unit]\nDescription=first\nDescription=second\n[Service]\nExecStart=/usr/bin/app\nRestart=always\nRestart=on-failure\nUser=a\nUser=b\n");
        Assert.That((unit.Description, unit.Restart, unit.User), Is.EqualTo(("second", RestartPolicy.OnFailure, "b")));
    }

    [Test]
    public void An_empty_assignment_resets_a_single_valued_key_to_its_default()
    {
        var unit = Parse("[Unit]\nDescription=x\nDescription=\n[Service]\nExecStart=/usr/bin/app\nRestart=always\nRestart=\nRestartSec=5\nRestartSec=\nUser=a\nUser=\nCPUQuota=50%\nCPUQuota=\n");
        Assert.That((unit.Description, unit.Restart, unit.RestartSec, unit.User, unit.CpuQuota), Is.EqualTo(((string?)null, RestartPolicy.No, TimeSpan.FromMilliseconds(100), (string?)null, (int?)null)));
    }

    [Test]
    public void Repeated_sections_are_merged()
    {
        var unit = Parse("[Service]\nExecStart=/usr/bin/app\n[Unit]\nDescription=x\n[Service]\nRestart=always\n");
        Assert.That((unit.Description, unit.Restart), Is.EqualTo(("x", RestartPolicy.Always)));
        Assert.That(unit.Sections["Service"].Keys, Is.EquivalentTo(new[] { "ExecStart", "Restart" }));
    }

    [Test]
    public void Every_section_and_key_is_kept_as_written_in_order()
    {
        var unit = Parse("[Unit]\nDescription=x\nDocumentation=man:a\nDocumentation=man:b\n[Service]\nExecStart=/usr/bin/a\nExecStart=\nExecStart=/usr/bin/b\n[Install]\nWantedBy=multi-user.target\n[X-Custom]\nAnything=goes\n");
        Assert.That(unit.Sections.Keys, Is.EqualTo(new[] { "Unit", "Service", "Install", "X-Custom" }));
        Assert.That(unit.Sections["Unit"]["Documentation"], Is.EqualTo(new[] { "man:a", "man:b" }));
        Assert.That(unit.Sections["Service"]["ExecStart"], Is.EqualTo(new[] { "/usr/bin/a", string.Empty, "/usr/bin/b" }));
        Assert.That(unit.Sections["Install"]["WantedBy"], Is.EqualTo(new[] { "multi-user.target" }));
        Assert.That(unit.Sections["X-Custom"]["Anything"], Is.EqualTo(new[] { "goes" }));
    }

    [Test]
    public void Unknown_sections_are_kept_and_reported_once_each()
    {
        var unit = Parse("[Socket]\nListenStream=80\nAccept=no\n[Service]\nExecStart=/usr/bin/app\n");
        Assert.That(unit.Warnings.Single().ToString(), Is.EqualTo("web.service:1: [Socket] is not a section GitProc uses; its keys are kept but ignored."));
        Assert.That(unit.Sections["Socket"]["ListenStream"], Is.EqualTo(new[] { "80" }));
    }

    [Test]
    public void The_Install_section_is_reported_as_unused()
    {
        var unit = Parse(Minimal + "[Install]\nWantedBy=multi-user.target\n");
        Assert.That(unit.Warnings.Single().Message, Does.Contain("[Install] is not used by GitProc"));
        Assert.That(unit.Warnings.Single().Line, Is.EqualTo(3));
    }

    [Test]
    public void Extension_sections_and_keys_starting_with_X_are_kept_with_a_warning_never_an_error()
    {
        // CONTRACT §2: X- sections and keys are available to callers and reported, never fatal (whatever UnknownKeys says).
        var unit = Parse("[X-GitProc]\nOwner=team\n[Service]\nExecStart=/usr/bin/app\nX-Note=hello\n");
        Assert.That(unit.Warnings.Select(w => (w.Line, w.Key)), Is.EqualTo(new (int, string?)[] { (1, null), (5, "X-Note") }));
        Assert.That(unit.Warnings.Select(w => w.Message), Has.All.Contains("GitProc does not act on"));
        Assert.That(unit.Sections["Service"]["X-Note"], Is.EqualTo(new[] { "hello" }));
        Assert.That(unit.Sections["X-GitProc"]["Owner"], Is.EqualTo(new[] { "team" }));
    }

    [Test]
    public void Section_names_are_case_sensitive_with_a_hint()
    {
        // The misspelt header is the one error: the ExecStart= under it is not reported a second time as missing.
        var error = Refused("[service]\nExecStart=/usr/bin/app\n");
        Assert.That(error.Errors, Has.Count.EqualTo(1));
        Assert.That(error.Message, Is.EqualTo(
            "web.service:1: [service] is not a section systemd or GitProc knows, so its keys would be ignored. Did you mean [Service]? Section names are case-sensitive and take no spaces."));

        // With UnknownKeys=Warn, a warning with the same hint, and the keys under it are kept.
        var unit = UnitFileParser.Parse("web.service", "[service]\nX=1\n" + Minimal, new UnitFileOptions { UnknownKeys = UnknownKeyHandling.Warn });
        Assert.That(unit.Warnings.Single().Message, Does.Contain("Did you mean [Service]? Section names are case-sensitive"));
        Assert.That(unit.Sections["service"]["X"], Is.EqualTo(new[] { "1" }));
    }

    [Test]
    public void Systemd_keys_GitProc_does_not_act_on_are_kept_and_reported_as_warnings()
    {
        var unit = Parse("[Unit]\nConditionPathExists=/x\n[Service]\nExecStart=/usr/bin/app\nProtectSystem=strict\n");
        Assert.That(unit.Warnings.Select(w => (w.Line, w.Key)), Is.EqualTo(new[] { (2, "ConditionPathExists"), (5, "ProtectSystem") }));
        Assert.That(unit.Warnings, Has.All.Property(nameof(UnitFileWarning.Message)).Contains("is a systemd setting GitProc does not act on; it is kept but ignored"));
        Assert.That(unit.Sections["Service"]["ProtectSystem"], Is.EqualTo(new[] { "strict" }));
    }

    [Test]
    public void A_key_GitProc_acts_on_in_the_wrong_section_is_an_error_with_a_hint()
    {
        // Restart=always under [Unit] silently leaves the default restart policy, exactly like a typo.
        var error = Refused("[Unit]\nRestart=always\n[Service]\nExecStart=/usr/bin/app\nAfter=db\n");
        Assert.That(error.Errors.Select(e => e.Message), Is.EqualTo(new[]
        {
            "web.service:2: Restart: Restart= belongs in [Service], not [Unit], so GitProc does not act on it here. Move it to [Service].",
            "web.service:5: After: After= belongs in [Unit], not [Service], so GitProc does not act on it here. Move it to [Unit].",
        }));
    }

    [Test]
    public void A_key_in_the_wrong_section_is_a_warning_when_unknown_keys_warn_or_when_GitProc_ignores_it_anyway()
    {
        var unit = UnitFileParser.Parse(
            "web.service",
            "[Unit]\nRestart=always\n[Service]\nExecStart=/usr/bin/app\nAfter=db\n",
            new UnitFileOptions { UnknownKeys = UnknownKeyHandling.Warn });
        Assert.That(unit.Warnings.Select(w => w.Message), Is.EqualTo(new[]
        {
            "Restart= belongs in [Service], not [Unit], so GitProc does not act on it here. Move it to [Service]. It is kept but ignored.",
            "After= belongs in [Unit], not [Service], so GitProc does not act on it here. Move it to [Unit]. It is kept but ignored.",
        }));
        Assert.That((unit.Restart, unit.After.Count), Is.EqualTo((RestartPolicy.No, 0)));

        // Description= is only shown and PrivateTmp= is a systemd key GitProc does not act on: misplacing them changes
        // nothing that runs, so they stay warnings even in the default mode.
        var strict = Parse("[Service]\nExecStart=/usr/bin/app\nDescription=x\n[Unit]\nPrivateTmp=yes\n");
        Assert.That(strict.Warnings.Select(w => w.Message), Is.EqualTo(new[]
        {
            "Description= belongs in [Unit], not [Service]; it is ignored here. Move it to [Unit].",
            "PrivateTmp= belongs in [Service], not [Unit]; it is ignored here. Move it to [Service].",
        }));
    }

    [Test]
    public void An_assignment_before_any_section_is_an_error_naming_the_line()
    {
        var error = Refused("\n# c\nExecStart=/usr/bin/app\n[Service]\n");
        Assert.That(error.Message, Is.EqualTo("web.service:3: ExecStart=/usr/bin/app: The assignment comes before any section header; put it under [Unit] or [Service]."));
    }

    [Test]
    public void A_line_without_equals_is_an_error_naming_the_line()
    {
        var error = Refused("[Service]\nExecStart=/usr/bin/app\nRestart always\n");
        Assert.That(error.Message, Does.StartWith("web.service:3: 'Restart always': The line is neither a [Section] header, a Key=value assignment nor a comment"));
    }

    [Test]
    public void An_assignment_without_a_key_is_an_error()
    {
        Assert.That(RefusedService("=value").Message, Does.StartWith("web.service:3: '=value': The assignment has no key"));
    }

    [TestCase("[Unit", "does not end with ']'")]
    [TestCase("[Unit] # comment", "does not end with ']'")]
    [TestCase("[Un\"it]", "control character, quote or backslash")]
    public void A_malformed_section_header_is_an_error(string header, string reason)
    {
        var error = Refused($"{header}\n{Minimal}");
        Assert.That((error.Line, error.Value), Is.EqualTo((1, header)));
        Assert.That(error.Message, Does.Contain(reason));
    }

    [Test]
    public void A_line_that_is_not_UTF8_is_an_error_naming_the_line()
    {
        var bytes = Encoding.UTF8.GetBytes("[Unit]\nDescription=ok\nDescription=caf\u00e9 ")
            .Concat(new byte[] { 0xC3, 0x28, (byte)'\n' })
            .Concat(Encoding.UTF8.GetBytes(Minimal))
            .ToArray();
        var error = Assert.Throws<UnitFileParseException>(() => UnitFileParser.Parse("web.service", bytes))!;
        Assert.That(error.Line, Is.EqualTo(3));
        Assert.That(error.Message, Does.StartWith("web.service:3: 'Description=café \uFFFD(': The line is not valid UTF-8 (byte 0xC3 at byte 19); save the file as UTF-8."));
    }

    [Test]
    public void Invalid_UTF8_after_CRLF_lines_is_located_on_the_right_line()
    {
        var bytes = Encoding.UTF8.GetBytes("[Unit]\r\nDescription=a\r\n\r\nX=").Concat(new byte[] { 0xFF }).ToArray();
        Assert.That(Assert.Throws<UnitFileParseException>(() => UnitFileParser.Parse("web.service", bytes))!.Line, Is.EqualTo(4));
    }

    [Test]
    public void A_lone_surrogate_in_text_is_an_error_naming_the_line()
    {
        var error = Refused("[Unit]\nDescription=bad \uD800 text\n" + Minimal);
        Assert.That(error.Line, Is.EqualTo(2));
        Assert.That(error.Message, Does.Contain("unpaired surrogate U+D800 at column 17"));
        Assert.That(error.Message, Does.Contain("'Description=bad \\ud800 text'"));
    }

    [Test]
    public void A_NUL_character_is_an_error_naming_the_line()
    {
        var error = Refused(Minimal + "Description=a\0b\n");
        Assert.That(error.Line, Is.EqualTo(3));
        Assert.That(error.Message, Does.Contain("NUL character"));
    }

    [Test]
    public void Non_BMP_characters_are_text()
    {
        Assert.That(Parse("[Unit]\nDescription=rocket \U0001F680\n" + Minimal).Description, Is.EqualTo("rocket \U0001F680"));
    }

    [Test]
    public void An_empty_file_is_refused_as_having_no_ExecStart()
    {
        var error = Refused(string.Empty);
        Assert.That(error.Message, Is.EqualTo("web.service: ExecStart: The file has no settings at all (an empty file, or one masked by a link to /dev/null); a service needs [Service] with ExecStart=/path/to/program."));
    }

    [Test]
    public void Error_messages_show_hostile_values_on_one_line()
    {
        var error = RefusedService("Restart=a\u0001\u001b[31m" + new string('x', 500));
        Assert.That(error.Message, Does.StartWith("web.service:3: Restart=a\\x01\\x1b[31mxxx"));
        Assert.That(error.Message.Any(char.IsControl), Is.False);
        Assert.That(error.Message.Length, Is.LessThan(400));
        Assert.That(error.Value, Has.Length.EqualTo(507));
        Assert.That(RefusedService("Restart=a\u200bb\uFEFF").Message, Does.StartWith("web.service:3: Restart=a\\u200bb\\ufeff: "));
    }

    // ---- [Unit] keys ----

    [Test]
    public void Description_is_free_text()
    {
        Assert.That(Parse("[Unit]\nDescription=My \"web\" server: 100% up\n" + Minimal).Description, Is.EqualTo("My \"web\" server: 100% up"));
    }

    [Test]
    public void Dependencies_are_space_separated_names_without_the_service_suffix()
    {
        var unit = Parse("[Unit]\nAfter=db.service network.target cache\nAfter=db queue.service\nRequires=db.service\nWants=metrics 'logs.service'\n" + Minimal);
        Assert.That(unit.After, Is.EqualTo(new[] { "db", "network.target", "cache", "queue" }));
        Assert.That(unit.Requires, Is.EqualTo(new[] { "db" }));
        Assert.That(unit.Wants, Is.EqualTo(new[] { "metrics", "logs" }));
    }

    [Test]
    public void An_empty_dependency_assignment_is_ignored()
    {
        var unit = Parse("[Unit]\nAfter=db\nAfter=\nWants=\n" + Minimal);
        Assert.That(unit.After, Is.EqualTo(new[] { "db" }));
        Assert.That(unit.Wants, Is.Empty);
    }

    [Test]
    public void Dependencies_keep_specifiers_and_escapes()
    {
        var unit = Parse("[Unit]\nAfter=dev-%i.device user-runtime-dir@%i.service dev-disk-by\\x2dlabel.device\n" + Minimal);
        Assert.That(unit.After, Is.EqualTo(new[] { "dev-%i.device", "user-runtime-dir@%i", "dev-disk-by\\x2dlabel.device" }));
    }

    [TestCase("../x")]
    [TestCase("a/b.service")]
    [TestCase(".hidden")]
    [TestCase(".service")]
    [TestCase("a$b")]
    [TestCase("\"unbalanced")]
    public void An_invalid_dependency_name_is_an_error(string name)
    {
        var error = Refused($"[Unit]\nRequires=db {name}\n" + Minimal);
        Assert.That((error.Line, error.Key, error.Value), Is.EqualTo((2, "Requires", $"db {name}")));
    }

    [Test]
    public void StartLimitBurst_and_StartLimitIntervalSec_are_read_from_Unit()
    {
        var unit = Parse("[Unit]\nStartLimitBurst=3\nStartLimitIntervalSec=1min\n" + Minimal);
        Assert.That((unit.StartLimitBurst, unit.StartLimitInterval), Is.EqualTo((3, TimeSpan.FromMinutes(1))));
        Assert.That(Parse("[Unit]\nStartLimitInterval=20\n" + Minimal).StartLimitInterval, Is.EqualTo(TimeSpan.FromSeconds(20)));
        Assert.That(Parse("[Unit]\nStartLimitIntervalSec=0\n" + Minimal).StartLimitInterval, Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void StartLimit_keys_in_Service_are_accepted_with_a_warning()
    {
        var unit = Service("StartLimitIntervalSec=30s\nStartLimitBurst=2");
        Assert.That((unit.StartLimitBurst, unit.StartLimitInterval), Is.EqualTo((2, TimeSpan.FromSeconds(30))));
        Assert.That(unit.Warnings.Select(w => w.Key), Is.EqualTo(new[] { "StartLimitIntervalSec", "StartLimitBurst" }));
        Assert.That(unit.Warnings[0].Message, Does.Contain("belongs in [Unit]"));
    }

    [TestCase("StartLimitBurst=-1", "not a number")]
    [TestCase("StartLimitBurst=many", "not a number")]
    [TestCase("StartLimitBurst=99999999999", "not a number")]
    [TestCase("StartLimitIntervalSec=infinity", "does not accept infinity")]
    [TestCase("StartLimitIntervalSec=soon", "not a time span")]
    public void Bad_start_limits_are_errors(string line, string reason)
    {
        var error = Refused($"[Unit]\n{line}\n" + Minimal);
        Assert.That(error.Line, Is.EqualTo(2));
        Assert.That(error.Message, Does.Contain(reason));
    }

    // ---- [Service] Type and commands ----

    [TestCase("simple", ServiceType.Simple)]
    [TestCase("exec", ServiceType.Exec)]
    [TestCase("oneshot", ServiceType.Oneshot)]
    [TestCase("notify", ServiceType.Notify)]
    public void Type_takes_the_supported_values(string value, ServiceType type)
    {
        var unit = Service($"Type={value}");
        Assert.That(unit.Type, Is.EqualTo(type));
        Assert.That(unit.Warnings, Is.Empty);
    }

    [TestCase("dbus")]
    [TestCase("idle")]
    public void Dbus_and_idle_run_as_simple_with_a_warning(string value)
    {
        var unit = Service($"Type={value}");
        Assert.That(unit.Type, Is.EqualTo(ServiceType.Simple));
        Assert.That(unit.Warnings.Single().Message, Does.StartWith($"Type={value} runs as simple: the service counts as running as soon as its process starts"));
    }

    [Test]
    public void Notify_reload_runs_as_notify_with_a_warning_that_reload_is_not_by_signal()
    {
        var unit = Service("Type=notify-reload");
        Assert.That(unit.Type, Is.EqualTo(ServiceType.Notify));
        Assert.That(unit.Warnings.Single().Message, Does.Contain("a reload is not sent as a signal"));
    }

    [Test]
    public void A_notify_unit_defaults_to_NotifyAccess_main_a_90_second_start_timeout_and_no_watchdog()
    {
        var unit = Service("Type=notify");
        Assert.That(unit.EffectiveNotifyAccess, Is.EqualTo(NotifyAccess.Main));
        Assert.That(unit.NotifyAccess, Is.Null);
        Assert.That(unit.TimeoutStart, Is.EqualTo(TimeSpan.FromSeconds(90)));
        Assert.That(unit.Watchdog, Is.Null);
        Assert.That(Service("Type=simple").EffectiveNotifyAccess, Is.EqualTo(NotifyAccess.None));
        Assert.That(Service("WatchdogSec=5").EffectiveNotifyAccess, Is.EqualTo(NotifyAccess.Main), "a watchdog needs someone to ping it");
    }

    [TestCase("NotifyAccess=all", "all")]
    [TestCase("NotifyAccess=exec", "exec")]
    [TestCase("NotifyAccess=none", "none")]
    [TestCase("WatchdogSec=2s", "2s")]
    [TestCase("WatchdogSec=0", "off")]
    [TestCase("TimeoutStartSec=5", "5s")]
    [TestCase("TimeoutStartSec=infinity", "infinite")]
    [TestCase("TimeoutSec=7", "7s")]
    public void Readiness_keys_are_acted_on_without_a_warning(string line, string expected)
    {
        var unit = Service("Type=notify\n" + line);
        Assert.That(unit.Warnings, Is.Empty);
        var actual = line.Split('=')[0] switch
        {
            "NotifyAccess" => unit.EffectiveNotifyAccess.ToString().ToLowerInvariant(),
            "WatchdogSec" => unit.Watchdog is { } w ? $"{w.TotalSeconds}s" : "off",
            _ => unit.TimeoutStart == Timeout.InfiniteTimeSpan ? "infinite" : $"{unit.TimeoutStart.TotalSeconds}s",
        };
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void A_bad_NotifyAccess_is_an_error_that_lists_the_values()
    {
        Assert.That(RefusedService("NotifyAccess=some").Message, Does.EndWith("The value is not a notification access; use none, main, exec or all."));
    }

    [Test]
    public void Type_forking_with_PIDFile_and_GuessMainPID_is_acted_on_without_a_warning()
    {
        var unit = Service("Type=forking\nPIDFile=/run/nginx.pid\nGuessMainPID=no");
        Assert.That(unit.Warnings, Is.Empty);
        Assert.That(unit.Type, Is.EqualTo(ServiceType.Forking));
        Assert.That(unit.PidFile, Is.EqualTo("/run/nginx.pid"));
        Assert.That(unit.GuessMainPid, Is.False);

        var defaults = Service("Type=forking");
        Assert.That(defaults.PidFile, Is.Null);
        Assert.That(defaults.GuessMainPid, Is.True, "GuessMainPID= defaults to yes");
    }

    [Test]
    public void PIDFile_keeps_specifiers_and_an_empty_assignment_resets_it()
    {
        Assert.That(Service("Type=forking\nPIDFile=/run/postgresql/%i-main.pid").PidFile, Is.EqualTo("/run/postgresql/%i-main.pid"));
        Assert.That(Service("Type=forking\nPIDFile=/run/a.pid\nPIDFile=").PidFile, Is.Null);
    }

    [Test]
    public void A_relative_PIDFile_is_read_under_run_with_a_warning()
    {
        var unit = Service("Type=forking\nPIDFile=nginx.pid");
        Assert.That(unit.PidFile, Is.EqualTo("nginx.pid"));
        Assert.That(unit.Warnings.Single().Message, Does.Contain("read as /run/nginx.pid"));
    }

    [Test]
    public void PIDFile_on_a_service_that_does_not_fork_is_a_warning()
    {
        var unit = Service("PIDFile=/run/app.pid");
        Assert.That(unit.Warnings.Single().Message, Is.EqualTo("PIDFile= is only read for Type=forking (this one is Type=simple); it is ignored."));
    }

    [Test]
    public void A_bad_GuessMainPID_is_an_error()
    {
        Assert.That(RefusedService("GuessMainPID=perhaps").Message, Does.EndWith("GuessMainPID=perhaps: The value is not a boolean; write yes or no (also accepted: true/false, on/off, 1/0)."));
    }

    [TestCase("Simple")]
    [TestCase("daemon")]
    public void An_unknown_type_is_an_error(string value)
    {
        Assert.That(RefusedService($"Type={value}").Message, Does.EndWith("The value is not a service type GitProc supports; use simple, exec, oneshot, notify or forking."));
    }

    [Test]
    public void ExecStart_is_split_and_kept_as_written()
    {
        var unit = Parse("[Service]\nExecStart=-/usr/bin/app --name \"my app\" $PORT %i\n");
        var command = unit.ExecStartCommands.Single();
        Assert.That(unit.ExecStart, Is.EqualTo("/usr/bin/app --name \"my app\" $PORT %i"));
        Assert.That(command.Arguments, Is.EqualTo(new[] { "/usr/bin/app", "--name", "my app", "$PORT", "%i" }));
        Assert.That(command.Executable, Is.EqualTo("/usr/bin/app"));
        Assert.That(command.IgnoreFailure, Is.True);
    }

    [Test]
    public void Several_ExecStart_lines_are_refused_unless_oneshot()
    {
        var error = Refused("[Service]\nExecStart=/usr/bin/a\nExecStart=/usr/bin/b\n");
        Assert.That(error.Message, Is.EqualTo("web.service:3: ExecStart=/usr/bin/b: This is a second ExecStart= command, which only Type=oneshot services may have (this one is Type=simple); keep one ExecStart=, move the others to ExecStartPre=/ExecStartPost=, or set Type=oneshot."));
        var unit = Parse("[Service]\nExecStart=/usr/bin/a\nExecStart=/usr/bin/b ; /usr/bin/c\nType=oneshot\n");
        Assert.That(unit.ExecStartCommands.Select(c => c.Executable), Is.EqualTo(new[] { "/usr/bin/a", "/usr/bin/b", "/usr/bin/c" }));
        Assert.That(unit.ExecStart, Is.EqualTo("/usr/bin/a"));
    }

    [Test]
    public void Semicolon_separated_commands_count_as_several()
    {
        Assert.That(Refused("[Service]\nExecStart=/usr/bin/a ; /usr/bin/b\n").Message, Does.Contain("second ExecStart="));
    }

    [Test]
    public void An_empty_ExecStart_resets_the_list()
    {
        var unit = Parse("[Service]\nExecStart=/usr/bin/a\nExecStart=\nExecStart=/usr/bin/b\n");
        Assert.That(unit.ExecStart, Is.EqualTo("/usr/bin/b"));
        Assert.That(Refused("[Service]\nExecStart=/usr/bin/a\nExecStart=\n").Key, Is.EqualTo("ExecStart"));
    }

    [TestCase("ExecStartPre")]
    [TestCase("ExecStartPost")]
    [TestCase("ExecStop")]
    [TestCase("ExecReload")]
    public void Other_Exec_keys_accumulate_and_reset_on_empty(string key)
    {
        UnitFile unit = Service($"{key}=/bin/a 1\n{key}=-/bin/b 'two words'\n{key}=\n{key}=/bin/c\n{key}=/bin/d ; /bin/e");
        var commands = key switch
        {
            "ExecStartPre" => unit.ExecStartPre,
            "ExecStartPost" => unit.ExecStartPost,
            "ExecStop" => unit.ExecStop,
            _ => unit.ExecReload,
        };
        Assert.That(commands.Select(c => c.Executable), Is.EqualTo(new[] { "/bin/c", "/bin/d", "/bin/e" }));
        unit = Service($"{key}=/bin/a 1\n{key}=-/bin/b 'two words'");
        commands = key switch
        {
            "ExecStartPre" => unit.ExecStartPre,
            "ExecStartPost" => unit.ExecStartPost,
            "ExecStop" => unit.ExecStop,
            _ => unit.ExecReload,
        };
        Assert.That(commands[1].Arguments, Is.EqualTo(new[] { "/bin/b", "two words" }));
        Assert.That(commands[1].IgnoreFailure, Is.True);
    }

    [TestCase("ExecStart=/usr/bin/app \"unbalanced", "The command line has an unbalanced double quote")]
    [TestCase("ExecStartPre=/usr/bin/app 'x", "The command line has an unbalanced single quote")]
    [TestCase("ExecStop=-", "has nothing after the prefix '-'")]
    [TestCase("ExecReload=@/bin/sh", "gives no argv[0]")]
    [TestCase("ExecStartPost=/usr/bin/", "names the directory")]
    public void Malformed_commands_are_errors_naming_line_key_and_value(string line, string reason)
    {
        var error = Refused($"[Service]\nType=oneshot\n{line}\nExecStart=/bin/true\n");
        var key = line[..line.IndexOf('=', StringComparison.Ordinal)];
        Assert.That((error.Line, error.Key, error.Value), Is.EqualTo((3, key, line[(key.Length + 1)..])));
        Assert.That(error.Message, Does.Contain(reason));
    }

    [Test]
    public void Command_warnings_name_line_and_key()
    {
        var unit = Service("ExecStartPre=+/usr/bin/setup");
        Assert.That(unit.Warnings.Single().ToString(), Does.StartWith("web.service:3: ExecStartPre: The '+' prefix"));
        Assert.That(unit.ExecStartPre.Single().Prefixes, Is.EqualTo("+"));
    }

    // ---- Restart ----

    [TestCase("no", RestartPolicy.No)]
    [TestCase("always", RestartPolicy.Always)]
    [TestCase("on-success", RestartPolicy.OnSuccess)]
    [TestCase("on-failure", RestartPolicy.OnFailure)]
    [TestCase("on-abnormal", RestartPolicy.OnAbnormal)]
    [TestCase("on-abort", RestartPolicy.OnAbort)]
    public void Restart_takes_systemd_values(string value, RestartPolicy policy)
    {
        Assert.That(Service($"Restart={value}").Restart, Is.EqualTo(policy));
    }

    [Test]
    public void Restart_on_watchdog_is_its_own_policy()
    {
        var unit = Service("Restart=on-watchdog");
        Assert.That(unit.Restart, Is.EqualTo(RestartPolicy.OnWatchdog));
        Assert.That(unit.Warnings, Is.Empty);
    }

    [TestCase("RestartSec=5", 5_000)]
    [TestCase("RestartSec=1min 30s", 90_000)]
    [TestCase("RestartSec=250ms", 250)]
    [TestCase("RestartSec=0", 0)]
    public void RestartSec_is_a_time_span(string line, int milliseconds)
    {
        Assert.That(Service(line).RestartSec, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Test]
    public void RestartSteps_and_RestartMaxDelaySec_configure_backoff()
    {
        var unit = Service("RestartSteps=5\nRestartMaxDelaySec=2min");
        Assert.That((unit.RestartSteps, unit.RestartMaxDelay), Is.EqualTo((5, (TimeSpan?)TimeSpan.FromMinutes(2))));
        Assert.That(Service("RestartMaxDelaySec=2min\nRestartMaxDelaySec=infinity").RestartMaxDelay, Is.Null);
    }

    [TestCase("RestartSec=infinity", "does not accept infinity")]
    [TestCase("RestartSec=-1", "negative")]
    [TestCase("RestartSteps=-1", "not a number")]
    [TestCase("RestartSteps=two", "not a number")]
    [TestCase("RestartMaxDelaySec=later", "not a time span")]
    public void Bad_restart_timing_is_an_error(string line, string reason)
    {
        var error = RefusedService(line);
        Assert.That(error.Line, Is.EqualTo(3));
        Assert.That(error.Message, Does.Contain(reason));
    }

    // ---- Stopping ----

    [TestCase("TimeoutStopSec=30", 30_000)]
    [TestCase("TimeoutStopSec=1h", 3_600_000)]
    [TestCase("TimeoutSec=90s", 90_000)]
    [TestCase("TimeoutSec=90s\nTimeoutStopSec=5s", 5_000)]
    [TestCase("TimeoutStopSec=5s\nTimeoutSec=90s", 90_000)]
    public void TimeoutStopSec_and_TimeoutSec_set_the_stop_timeout_in_file_order(string lines, int milliseconds)
    {
        Assert.That(Service(lines).TimeoutStop, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [TestCase("TimeoutStopSec=infinity")]
    [TestCase("TimeoutStopSec=0")]
    [TestCase("TimeoutSec=0")]
    public void Infinity_or_zero_disables_the_stop_timeout_as_in_systemd(string line)
    {
        Assert.That(Service(line).TimeoutStop, Is.EqualTo(Timeout.InfiniteTimeSpan));
    }

    [TestCase("SIGTERM", 15)]
    [TestCase("TERM", 15)]
    [TestCase("SIGINT", 2)]
    [TestCase("SIGHUP", 1)]
    [TestCase("SIGKILL", 9)]
    [TestCase("SIGQUIT", 3)]
    [TestCase("SIGUSR1", 10)]
    [TestCase("SIGUSR2", 12)]
    [TestCase("SIGWINCH", 28)]
    [TestCase("9", 9)]
    [TestCase("64", 64)]
    [TestCase("SIGRTMIN", 34)]
    [TestCase("SIGRTMIN+2", 36)]
    [TestCase("RTMAX-1", 63)]
    public void KillSignal_takes_names_and_numbers(string value, int signal)
    {
        Assert.That(Service($"KillSignal={value}").KillSignal, Is.EqualTo(signal));
    }

    [TestCase("SIGFOO")]
    [TestCase("sigterm")]
    [TestCase("0")]
    [TestCase("65")]
    [TestCase("-9")]
    [TestCase("SIGRTMIN+31")]
    [TestCase("SIG")]
    public void An_unknown_KillSignal_is_an_error(string value)
    {
        Assert.That(RefusedService($"KillSignal={value}").Message, Does.Contain("The value is not a signal; write a name such as SIGTERM"));
    }

    // ---- Identity and environment ----

    [Test]
    public void User_Group_and_WorkingDirectory_are_kept_as_written()
    {
        var unit = Service("User=postgres\nGroup=%i\nWorkingDirectory=~");
        Assert.That((unit.User, unit.Group, unit.WorkingDirectory, unit.WorkingDirectoryOptional), Is.EqualTo(("postgres", "%i", "~", false)));
        Assert.That(Service("User=1000").User, Is.EqualTo("1000"));
    }

    [Test]
    public void A_dash_before_WorkingDirectory_makes_it_optional()
    {
        var unit = Service("WorkingDirectory=-/root");
        Assert.That((unit.WorkingDirectory, unit.WorkingDirectoryOptional), Is.EqualTo(("/root", true)));
        unit = Service("WorkingDirectory=-/root\nWorkingDirectory=/srv");
        Assert.That((unit.WorkingDirectory, unit.WorkingDirectoryOptional), Is.EqualTo(("/srv", false)));
        unit = Service("WorkingDirectory=-/root\nWorkingDirectory=");
        Assert.That((unit.WorkingDirectory, unit.WorkingDirectoryOptional), Is.EqualTo(((string?)null, false)));
    }

    [TestCase("User=two words", "not a valid user name")]
    [TestCase("User=a:b", "not a valid user name")]
    [TestCase("Group=a/b", "not a valid group name")]
    [TestCase("User=..", "not a valid user name")]
    [TestCase("User=-x", "not a valid user name")]
    [TestCase("WorkingDirectory=-", "nothing after '-'")]
    [TestCase("WorkingDirectory=/a\u0001b", "control character")]
    public void Bad_identity_settings_are_errors(string line, string reason)
    {
        var error = RefusedService(line);
        Assert.That(error.Line, Is.EqualTo(3));
        Assert.That(error.Message, Does.Contain(reason));
    }

    [Test]
    public void Environment_takes_quoted_assignments_and_accumulates()
    {
        var unit = Service("Environment=\"A=1\" \"B=two words\" C=3\nEnvironment='D=it''s' E=\"quoted \\\"inner\\\"\"\nEnvironment=A=override PATH=$PATH:/opt/bin HOME=%h");
        Assert.That(unit.Environment, Is.EqualTo(new Dictionary<string, string>
        {
            ["A"] = "override",
            ["B"] = "two words",
            ["C"] = "3",
            ["D"] = "its",
            ["E"] = "quoted \"inner\"",
            ["PATH"] = "$PATH:/opt/bin",
            ["HOME"] = "%h",
        }));
    }

    [Test]
    public void Environment_allows_empty_values_and_escapes()
    {
        var unit = Service("Environment=EMPTY= TAB=a\\tb");
        Assert.That(unit.Environment["EMPTY"], Is.Empty);
        Assert.That(unit.Environment["TAB"], Is.EqualTo("a\tb"));
    }

    [Test]
    public void An_empty_Environment_resets_it()
    {
        Assert.That(Service("Environment=A=1\nEnvironment=\nEnvironment=B=2").Environment.Keys, Is.EqualTo(new[] { "B" }));
    }

    [TestCase("Environment=NOEQUALS", "'NOEQUALS' is not a NAME=VALUE assignment")]
    [TestCase("Environment=1X=a", "'1X=a' is not a NAME=VALUE assignment")]
    [TestCase("Environment=A-B=a", "'A-B=a' is not a NAME=VALUE assignment")]
    [TestCase("Environment==a", "'=a' is not a NAME=VALUE assignment")]
    [TestCase("Environment=A=\\x01", "contains control characters")]
    public void Invalid_environment_words_are_ignored_with_a_warning_as_systemd_does(string line, string warning)
    {
        var unit = Service(line + " OK=yes");
        Assert.That(unit.Environment, Is.EqualTo(new Dictionary<string, string> { ["OK"] = "yes" }));
        Assert.That(unit.Warnings.Single().Message, Does.Contain(warning));
        Assert.That(unit.Warnings.Single().Key, Is.EqualTo("Environment"));
    }

    [Test]
    public void An_unbalanced_quote_in_Environment_is_an_error()
    {
        var error = RefusedService("Environment=\"A=1");
        Assert.That(error.Message, Does.StartWith("web.service:3: Environment=\"A=1: The value has an unbalanced double quote"));
    }

    [Test]
    public void EnvironmentFile_takes_paths_with_an_optional_dash()
    {
        var unit = Service("EnvironmentFile=/etc/default/app\nEnvironmentFile=-/etc/app.env\nEnvironmentFile=- /etc/spaced.env");
        Assert.That(unit.EnvironmentFiles, Is.EqualTo(new[]
        {
            new EnvironmentFileReference("/etc/default/app", false),
            new EnvironmentFileReference("/etc/app.env", true),
            new EnvironmentFileReference("/etc/spaced.env", true),
        }));
        Assert.That(Service("EnvironmentFile=/a\nEnvironmentFile=\nEnvironmentFile=/b").EnvironmentFiles.Select(f => f.Path), Is.EqualTo(new[] { "/b" }));
        Assert.That(RefusedService("EnvironmentFile=-").Message, Does.Contain("nothing after '-'"));
        Assert.That(RefusedService("EnvironmentFile=app.env").Message, Does.StartWith("web.service:3: EnvironmentFile=app.env: The path is not absolute"));
        Assert.That(RefusedService("EnvironmentFile=-./app.env").Message, Does.Contain("The path is not absolute"));
    }

    // ---- Resources ----

    [TestCase("1024", 1024L)]
    [TestCase("10K", 10L * 1024)]
    [TestCase("512M", 512L * 1024 * 1024)]
    [TestCase("2G", 2L * 1024 * 1024 * 1024)]
    [TestCase("1T", 1L << 40)]
    [TestCase("1P", 1L << 50)]
    [TestCase("1.5G", 3L * 512 * 1024 * 1024)]
    [TestCase("1G 512M", 1536L * 1024 * 1024)]
    [TestCase("100 M", 100L * 1024 * 1024)]
    [TestCase("4096B", 4096L)]
    public void MemoryMax_takes_sizes_with_base_1024_suffixes(string value, long bytes)
    {
        Assert.That(Service($"MemoryMax={value}").MemoryLimit, Is.EqualTo(bytes));
    }

    [Test]
    public void MemoryMax_infinity_means_no_limit()
    {
        Assert.That(Service("MemoryMax=1G\nMemoryMax=infinity").MemoryLimit, Is.Null);
    }

    [Test]
    [Platform(Include = "Linux")]
    public void A_MemoryMax_percentage_is_of_physical_memory()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var total = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        Assert.That(Service("MemoryMax=50%").MemoryLimit, Is.EqualTo(total / 2));
        Assert.That(Service("MemoryMax=100%").MemoryLimit, Is.EqualTo(total));
        Assert.That(Service("MemoryMax=12.5%").MemoryLimit, Is.EqualTo(total / 8));
    }

    [Test]
    public void MemoryLimit_is_an_alias_and_MemoryMax_wins_in_either_order()
    {
        Assert.That(Service("MemoryLimit=1G").MemoryLimit, Is.EqualTo(1L << 30));
        Assert.That(Service("MemoryMax=2G\nMemoryLimit=1G").MemoryLimit, Is.EqualTo(2L << 30));
        Assert.That(Service("MemoryLimit=1G\nMemoryMax=2G").MemoryLimit, Is.EqualTo(2L << 30));
        Assert.That(Service("MemoryLimit=1G\nMemoryMax=infinity").MemoryLimit, Is.Null);
        Assert.That(Service("MemoryLimit=1G\nMemoryMax=2G\nMemoryMax=").MemoryLimit, Is.EqualTo(1L << 30));
    }

    [TestCase("MemoryMax=abc", "not a memory size")]
    [TestCase("MemoryMax=1X", "not a memory size")]
    [TestCase("MemoryMax=-5M", "not a memory size")]
    [TestCase("MemoryMax=1g", "not a memory size")]
    [TestCase("MemoryMax=512M 1G", "not a memory size")]
    [TestCase("MemoryMax=5 0", "not a memory size")]
    [TestCase("MemoryMax=1G 5 0", "not a memory size")]
    [TestCase("MemoryMax=0", "is zero")]
    [TestCase("MemoryMax=99999999E", "not a memory size")]
    [TestCase("MemoryMax=101%", "more than 100%")]
    [TestCase("MemoryMax=0%", "is zero")]
    [TestCase("MemoryMax=x%", "not a percentage")]
    [TestCase("MemoryLimit=lots", "not a memory size")]
    public void Bad_memory_limits_are_errors(string line, string reason)
    {
        var error = RefusedService(line);
        Assert.That(error.Line, Is.EqualTo(3));
        Assert.That(error.Message, Does.Contain(reason));
    }

    [TestCase("50%", 50)]
    [TestCase("150%", 150)]
    [TestCase("1%", 1)]
    [TestCase("400%", 400)]
    public void CPUQuota_is_a_whole_percentage_of_one_CPU(string value, int percent)
    {
        Assert.That(Service($"CPUQuota={value}").CpuQuota, Is.EqualTo(percent));
    }

    [TestCase("abc", "not a CPU quota")]
    [TestCase("50", "not a CPU quota")]
    [TestCase("%", "not a CPU quota")]
    [TestCase("-5%", "not a CPU quota")]
    [TestCase("0%", "is zero")]
    [TestCase("12.5%", "fraction of a percent")]
    [TestCase("99999999999%", "too large")]
    public void Bad_CPU_quotas_are_errors(string value, string reason)
    {
        Assert.That(RefusedService($"CPUQuota={value}").Message, Does.Contain(reason));
    }

    [Test]
    [Platform(Include = "Linux")]
    public void TasksMax_takes_a_count_infinity_or_a_percentage_of_pid_max()
    {
        Assert.That(Service("TasksMax=512").TasksMax, Is.EqualTo(512));
        Assert.That(Service("TasksMax=512\nTasksMax=infinity").TasksMax, Is.Null);
        var pidMax = long.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), CultureInfo.InvariantCulture);
        Assert.That(Service("TasksMax=10%").TasksMax, Is.EqualTo(pidMax / 10));
    }

    [TestCase("TasksMax=0", "is zero")]
    [TestCase("TasksMax=many", "not a number of tasks")]
    [TestCase("TasksMax=200%", "more than 100%")]
    public void Bad_task_limits_are_errors(string line, string reason)
    {
        Assert.That(RefusedService(line).Message, Does.Contain(reason));
    }

    [Test]
    public void LimitNOFILE_takes_a_count_soft_and_hard_or_infinity_as_systemd_does()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Service(string.Empty).LimitNOFILE, Is.Null);
            Assert.That(Service("LimitNOFILE=4096").LimitNOFILE, Is.EqualTo(new ProcessLimit(4096, 4096)));
            Assert.That(Service("LimitNOFILE=1024:524288").LimitNOFILE, Is.EqualTo(new ProcessLimit(1024, 524288)));
            Assert.That(Service("LimitNOFILE=infinity").LimitNOFILE, Is.EqualTo(new ProcessLimit(ProcessLimit.Infinity, ProcessLimit.Infinity)));
            Assert.That(Service("LimitNOFILE=1024:infinity").LimitNOFILE, Is.EqualTo(new ProcessLimit(1024, ProcessLimit.Infinity)));
            Assert.That(Service("LimitNOFILE=64\nLimitNOFILE=").LimitNOFILE, Is.Null, "an empty assignment resets it");
            Assert.That(Service("LimitNOFILE=1024:infinity").LimitNOFILE.ToString(), Is.EqualTo("1024:infinity"));
            Assert.That(Service("LimitNOFILE=64").Warnings, Is.Empty);
        });
    }

    [TestCase("LimitNOFILE=lots", "not an open-file limit")]
    [TestCase("LimitNOFILE=1024:", "not an open-file limit")]
    [TestCase("LimitNOFILE=-1", "not an open-file limit")]
    [TestCase("LimitNOFILE=1K", "not an open-file limit")]
    [TestCase("LimitNOFILE=0", "is zero")]
    [TestCase("LimitNOFILE=4096:1024", "soft limit is above the hard limit")]
    public void Bad_open_file_limits_are_errors_naming_file_line_key_and_value(string line, string reason)
    {
        var error = RefusedService(line);

        Assert.That(error.Message, Does.Contain(reason).And.StartWith($"web.service:3: {line}:"));
        Assert.That((error.Line, error.Key, error.Value), Is.EqualTo((3, "LimitNOFILE", line["LimitNOFILE=".Length..])));
    }

    // ---- Health checks ----

    [Test]
    public void Health_check_keys_are_read()
    {
        var unit = Service("HealthCheckURL=http://127.0.0.1:8080/health\nHealthCheckInterval=10s\nHealthCheckTimeout=500ms\nHealthCheckRetries=5");
        Assert.That(unit.HealthCheckUrl, Is.EqualTo(new Uri("http://127.0.0.1:8080/health")));
        Assert.That((unit.HealthCheckInterval, unit.HealthCheckTimeout, unit.HealthCheckRetries), Is.EqualTo((TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500), 5)));
        Assert.That(Service("HealthCheckURL=https://example.com/ready").HealthCheckUrl!.Scheme, Is.EqualTo("https"));
    }

    [TestCase("HealthCheckURL=ftp://example.com/", "not an absolute http:// or https:// URL")]
    [TestCase("HealthCheckURL=/health", "not an absolute http:// or https:// URL")]
    [TestCase("HealthCheckURL=localhost:8080", "not an absolute http:// or https:// URL")]
    [TestCase("HealthCheckURL=not a url", "not an absolute http:// or https:// URL")]
    [TestCase("HealthCheckInterval=0", "must be longer than zero")]
    [TestCase("HealthCheckInterval=infinity", "does not accept infinity")]
    [TestCase("HealthCheckTimeout=5 parsecs", "not a time span")]
    [TestCase("HealthCheckRetries=0", "too small")]
    [TestCase("HealthCheckRetries=three", "not a number")]
    public void Bad_health_check_settings_are_errors(string line, string reason)
    {
        var error = RefusedService(line);
        Assert.That(error.Line, Is.EqualTo(3));
        Assert.That(error.Key, Is.EqualTo(line[..line.IndexOf('=', StringComparison.Ordinal)]));
        Assert.That(error.Message, Does.Contain(reason));
    }

    // ---- Log rate limit ----

    [TestCase("LogRateLimitIntervalSec=30s\nLogRateLimitBurst=1000", 30_000, 1000)]
    [TestCase("LogRateLimitIntervalSec=1min 30s\nLogRateLimitBurst=5", 90_000, 5)]
    [TestCase("LogRateLimitIntervalSec=2\nLogRateLimitBurst=0", 2_000, 0)]
    [TestCase("LogRateLimitIntervalSec=500ms", 500, 0)]
    [TestCase("LogRateLimitIntervalSec=0\nLogRateLimitBurst=10", 0, 10)]
    [TestCase("LogRateLimitIntervalSec=30s\nLogRateLimitBurst=10\nLogRateLimitIntervalSec=\nLogRateLimitBurst=", 0, 0)]
    public void Log_rate_limit_keys_are_read(string lines, int milliseconds, int burst)
    {
        var unit = Service(lines);
        Assert.That((unit.LogRateLimitInterval, unit.LogRateLimitBurst), Is.EqualTo((TimeSpan.FromMilliseconds(milliseconds), burst)));
        Assert.That(unit.Warnings, Is.Empty);
    }

    [TestCase("LogRateLimitIntervalSec=soon", "LogRateLimitIntervalSec=soon: The value is not a time span")]
    [TestCase("LogRateLimitIntervalSec=-5s", "LogRateLimitIntervalSec=-5s: The value is negative")]
    [TestCase("LogRateLimitIntervalSec=infinity", "LogRateLimitIntervalSec=infinity: GitProc does not accept infinity here; use 0 for no log rate limit")]
    [TestCase("LogRateLimitBurst=lots", "LogRateLimitBurst=lots: The value is not a number; write a whole number, 0 or more.")]
    [TestCase("LogRateLimitBurst=-1", "LogRateLimitBurst=-1: The value is not a number")]
    [TestCase("LogRateLimitBurst=99999999999", "LogRateLimitBurst=99999999999: The value is not a number")]
    public void Bad_log_rate_limits_name_file_line_key_and_value(string line, string message)
    {
        var error = RefusedService(line);
        Assert.That(error.Message, Does.StartWith("web.service:3: " + message));
        Assert.That((error.FileName, error.Line, error.Key, error.Value), Is.EqualTo(("web.service", 3, line[..line.IndexOf('=', StringComparison.Ordinal)], line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..])));
    }

    [Test]
    public void Log_rate_limit_keys_in_Unit_get_a_hint_to_move_them()
    {
        var error = Refused("[Unit]\nLogRateLimitBurst=5\n" + Minimal);
        Assert.That(error.Message, Does.Contain("LogRateLimitBurst= belongs in [Service], not [Unit]"));
        var unit = UnitFileParser.Parse("web.service", "[Unit]\nLogRateLimitBurst=5\n" + Minimal, new UnitFileOptions { UnknownKeys = UnknownKeyHandling.Warn });
        Assert.That(unit.LogRateLimitBurst, Is.Zero);
        Assert.That(unit.Warnings.Single().Message, Does.Contain("belongs in [Service]"));
    }

    // ---- Entry points ----

    [Test]
    public void The_interface_and_the_static_entry_agree()
    {
        IUnitFileParser parser = new UnitFileParser();
        var content = "[Unit]\nAfter=db\n[Service]\nExecStart=/usr/bin/app --x\nRestart=always\n";
        var fromInterface = parser.Parse("web.service", content);
        var fromBytes = parser.Parse("web.service", Encoding.UTF8.GetBytes(content));
        var fromStatic = UnitFileParser.Parse("web.service", content);
        foreach (var unit in new[] { fromInterface, fromBytes })
        {
            Assert.That(unit.ExecStartCommands.Single().Arguments, Is.EqualTo(fromStatic.ExecStartCommands.Single().Arguments));
            Assert.That((unit.Name, unit.Restart, unit.After.Single()), Is.EqualTo((fromStatic.Name, fromStatic.Restart, "db")));
        }
    }

    [Test]
    public void The_interface_can_be_mocked_by_consumers()
    {
        var mock = new Mock<IUnitFileParser>();
        var unit = new UnitFile { Name = "web", FileName = "web.service" };
        mock.Setup(p => p.Parse("web.service", It.IsAny<string>())).Returns(unit);
        Assert.That(mock.Object.Parse("web.service", "anything"), Is.SameAs(unit));
    }

    [Test]
    public void AddGitProc_registers_the_parser()
    {
        var services = new ServiceCollection().AddGitProc();
        using var provider = services.BuildServiceProvider();
        var parser = provider.GetRequiredService<IUnitFileParser>();
        Assert.That(parser.Parse("web.service", Minimal).ExecStart, Is.EqualTo("/usr/bin/app"));
    }

    [Test]
    public void The_parsed_collections_cannot_be_changed_through_casts()
    {
        var unit = Service("Environment=A=1\nExecStartPre=/bin/a");
        Assert.That(unit.Environment, Is.Not.InstanceOf<Dictionary<string, string>>());
        Assert.That(unit.ExecStartPre, Is.Not.InstanceOf<List<UnitCommand>>());
        Assert.That(unit.Sections["Service"], Is.Not.InstanceOf<Dictionary<string, IReadOnlyList<string>>>());
    }

    [Test]
    public void Parsing_a_typical_unit_is_cheap()
    {
        var content = string.Join('\n', Enumerable.Range(0, 14).Select(i => $"# comment {i}")) + "\n[Unit]\nDescription=Typical\nAfter=db.service cache.service\nRequires=db.service\n"
            + "[Service]\nType=simple\nExecStartPre=/usr/bin/check --config /etc/app.conf\nExecStart=/usr/bin/app --port 8080 --name \"my app\" $OPTS\n"
            + "Restart=on-failure\nRestartSec=5s\nTimeoutStopSec=30\nUser=app\nGroup=app\nWorkingDirectory=/srv/app\n"
            + "Environment=\"A=1\" \"B=two words\"\nEnvironmentFile=-/etc/default/app\nMemoryMax=512M\nCPUQuota=150%\nTasksMax=64\n"
            + "HealthCheckURL=http://127.0.0.1:8080/health\nHealthCheckInterval=10s\nProtectSystem=strict\nNoNewPrivileges=yes\n"
            + string.Join('\n', Enumerable.Range(0, 12).Select(i => $"X-Extra{i}=value {i}")) + "\n[Install]\nWantedBy=multi-user.target\n";
        Assert.That(content.Split('\n'), Has.Length.GreaterThanOrEqualTo(50));
        for (var i = 0; i < 200; i++)
        {
            UnitFileParser.Parse("web.service", content);
        }

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        const int count = 2_000;
        for (var i = 0; i < count; i++)
        {
            UnitFileParser.Parse("web.service", content);
        }

        // Well under a millisecond each; the bound is loose because the machine is shared.
        Assert.That(stopwatch.Elapsed / count, Is.LessThan(TimeSpan.FromMilliseconds(5)));
    }
}
