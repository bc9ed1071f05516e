using GitProc.UnitFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.UnitFiles;

/// <summary>
/// CONTRACT §2, strict keys: a key neither systemd nor GitProc knows is an error naming file, line and key with the
/// closest known key suggested (the same letters in another case first, then the nearest by edit distance); systemd's
/// own keys GitProc does not act on, and X- keys, stay warnings; <c>UnitFiles:UnknownKeys=Warn</c> restores warnings;
/// every error of a file is reported.
/// </summary>
public class UnitFileParserStrictKeysTests
{
    private static readonly UnitFileOptions Warn = new() { UnknownKeys = UnknownKeyHandling.Warn };

    private static UnitFileParseException Refused(string content, string fileName = "web.service")
        => Assert.Throws<UnitFileParseException>(() => UnitFileParser.Parse(fileName, content))!;

    private static string OnlyError(string serviceLine)
    {
        var error = Refused($"[Service]\nExecStart=/usr/bin/app\n{serviceLine}\n");
        Assert.That(error.Errors, Has.Count.EqualTo(1), error.Message);
        return error.Message;
    }

    [Test]
    public void A_misspelt_key_is_an_error_naming_file_line_and_key_with_the_key_meant()
    {
        var error = Refused("[Unit]\nDescription=Web\n[Service]\nExecStart=/usr/bin/web\nRestrat=always\n");
        Assert.That(error.Message, Is.EqualTo("web.service:5: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=?"));
        Assert.That((error.FileName, error.Line, error.Key, error.Value), Is.EqualTo(("web.service", 5, "Restrat", (string?)null)));
    }

    [Test]
    public void The_same_letters_in_another_case_are_suggested_as_a_case_mistake()
    {
        Assert.That(
            OnlyError("HealthCheckUrl=http://127.0.0.1:8080/health"),
            Is.EqualTo("web.service:3: HealthCheckUrl: HealthCheckUrl= is not a systemd or GitProc key in [Service]; did you mean HealthCheckURL=? Keys are case-sensitive."));

        // Far from every key by a case-sensitive edit distance, but the same letters.
        Assert.That(OnlyError("EXECSTARTPRE=/bin/true"), Does.EndWith("did you mean ExecStartPre=? Keys are case-sensitive."));
    }

    [TestCase("[Unit]\ntimeoutsec=5\n", "did you mean TimeoutSec= (in [Service])?")]
    [TestCase("[Unit]\nrequiredby=x\n", "did you mean RequiredBy= (in [Install])?")]
    public void A_case_match_in_another_section_wins_over_a_near_key_of_this_one(string unitLines, string hint)
    {
        // timeoutsec is one edit from [Unit]'s JobTimeoutSec and requiredby two from Requires, but each is exactly a
        // key of another section written in lower case: that is the likelier mistake.
        var error = Refused(unitLines + "[Service]\nExecStart=/usr/bin/app\n");
        Assert.That(error.Message, Does.EndWith(hint));
    }

    [TestCase("Restrat=always", "Restart")]
    [TestCase("ExecStrat=/usr/bin/app", "ExecStart")]
    [TestCase("MemoryMx=1G", "MemoryMax")]
    [TestCase("HealthCheckIntervall=5s", "HealthCheckInterval")]
    [TestCase("Enviroment=A=1", "Environment")]
    [TestCase("Typ=simple", "Type")]
    public void The_nearest_key_by_edit_distance_is_suggested(string line, string meant)
    {
        Assert.That(OnlyError(line), Does.EndWith($"; did you mean {meant}=?"));
    }

    [Test]
    public void A_typo_of_a_key_of_another_section_suggests_it_with_its_section()
    {
        Assert.That(OnlyError("Descripton=Web"), Does.EndWith("did you mean Description= (in [Unit])?"));
    }

    [Test]
    public void A_key_like_nothing_known_gets_no_guess_but_the_way_to_keep_it()
    {
        Assert.That(
            OnlyError("Frobnicate=yes"),
            Is.EqualTo("web.service:3: Frobnicate: Frobnicate= is not a systemd or GitProc key in [Service]. Check its spelling, or name a setting of your own X-Frobnicate=."));
    }

    [Test]
    public void An_unknown_key_under_Install_is_an_error_too()
    {
        var error = Refused("[Service]\nExecStart=/usr/bin/app\n[Install]\nWantedBx=multi-user.target\n");
        Assert.That(error.Message, Is.EqualTo("web.service:4: WantedBx: WantedBx= is not a systemd or GitProc key in [Install]; did you mean WantedBy=?"));
    }

    [Test]
    public void A_real_systemd_unit_loads_with_warnings_for_what_GitProc_does_not_act_on()
    {
        // A unit as distributions ship them: sandboxing, logging and install keys GitProc does not implement.
        var unit = UnitFileParser.Parse(
            "nginx.service",
            "[Unit]\nDescription=nginx\nDocumentation=man:nginx(8)\nAfter=network-online.target\nWants=network-online.target\nConditionPathExists=/etc/nginx\n"
            + "[Service]\nType=exec\nPIDFile=/run/nginx.pid\nExecStartPre=/usr/sbin/nginx -t -q\nExecStart=/usr/sbin/nginx -g 'daemon off;'\n"
            + "ExecReload=/usr/sbin/nginx -s reload\nTimeoutStopSec=5\nKillMode=mixed\nPrivateTmp=true\nProtectSystem=full\nNoNewPrivileges=yes\n"
            + "LimitNOFILE=65536\nStandardOutput=journal\nX-Team=web\n"
            + "[Install]\nWantedBy=multi-user.target\n");
        Assert.That(unit.ExecStart, Is.EqualTo("/usr/sbin/nginx -g 'daemon off;'"));
        Assert.That(
            unit.Warnings.Select(w => w.Key),
            Is.EqualTo(new[] { "Documentation", "ConditionPathExists", "PrivateTmp", "ProtectSystem", "NoNewPrivileges", "StandardOutput", "X-Team", null, "PIDFile" }));
        Assert.That(unit.Warnings[^1].Message, Is.EqualTo("PIDFile= is only read for Type=forking (this one is Type=exec); it is ignored."));
    }

    [Test]
    public void X_keys_are_never_errors_and_are_reported_as_kept()
    {
        var unit = UnitFileParser.Parse("web.service", "[Unit]\nX-Owner=team\n[Service]\nExecStart=/usr/bin/app\nX-Restrat=always\n");
        Assert.That(unit.Warnings.Select(w => w.ToString()), Is.EqualTo(new[]
        {
            "web.service:2: X-Owner: X-Owner= is an extension key: it is kept (available to callers) but GitProc does not act on it.",
            "web.service:5: X-Restrat: X-Restrat= is an extension key: it is kept (available to callers) but GitProc does not act on it.",
        }));
        Assert.That(unit.Sections["Unit"]["X-Owner"], Is.EqualTo(new[] { "team" }));
    }

    [Test]
    public void With_UnknownKeys_Warn_a_misspelt_key_is_kept_with_the_same_hint_and_the_unit_loads()
    {
        var unit = UnitFileParser.Parse("web.service", "[Service]\nExecStart=/usr/bin/app\nRestrat=always\nHealthCheckUrl=http://x/\n", Warn);
        Assert.That(unit.Warnings.Select(w => w.ToString()), Is.EqualTo(new[]
        {
            "web.service:3: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=? It is kept but ignored.",
            "web.service:4: HealthCheckUrl: HealthCheckUrl= is not a systemd or GitProc key in [Service]; did you mean HealthCheckURL=? Keys are case-sensitive. It is kept but ignored.",
        }));

        // Kept but not acted on: what the typo would silently have done, now visible.
        Assert.That((unit.Restart, unit.HealthCheckUrl), Is.EqualTo((RestartPolicy.No, (Uri?)null)));
        Assert.That(unit.Sections["Service"]["Restrat"], Is.EqualTo(new[] { "always" }));
    }

    [Test]
    public void Warn_mode_relaxes_only_unknown_keys_not_invalid_values()
    {
        var error = Assert.Throws<UnitFileParseException>(() => UnitFileParser.Parse("web.service", "[Service]\nExecStart=/usr/bin/app\nRestrat=always\nMemoryMax=lots\n", Warn))!;
        Assert.That(error.Errors.Select(e => (e.Line, e.Key)), Is.EqualTo(new (int, string?)[] { (4, "MemoryMax") }));
        Assert.That(error.Warnings.Single().Key, Is.EqualTo("Restrat"));
    }

    [Test]
    public void Every_error_of_a_file_is_reported_in_line_order_not_only_the_first()
    {
        var error = Refused(
            "[Unit]\nDescription=Web\nAftr=db\n[Service]\nExecStart=/usr/bin/web\nRestart=sometimes\nMemoryMax=lots\nKillSignal always\nHealthCheckUrl=http://x/\n");
        Assert.That(error.Errors.Select(e => (e.Line, e.Key)), Is.EqualTo(new (int, string?)[]
        {
            (3, "Aftr"), (6, "Restart"), (7, "MemoryMax"), (8, null), (9, "HealthCheckUrl"),
        }));
        Assert.That(error.Message.Split('\n'), Is.EqualTo(error.Errors.Select(e => e.Message)));
        Assert.That(error.Errors[0].Message, Does.EndWith("did you mean After=?"));

        // The properties describe the first error, as they did when there was only ever one.
        Assert.That((error.Line, error.Key), Is.EqualTo((3, "Aftr")));
    }

    [Test]
    public void An_error_that_follows_from_another_is_not_reported_twice()
    {
        // The ExecStart= that does not parse is not also "missing"; the one in the wrong section neither.
        var badCommand = Refused("[Service]\nExecStart=-\n");
        Assert.That(badCommand.Errors.Select(e => e.Line), Is.EqualTo(new[] { 2 }));
        var misplaced = Refused("[Unit]\nExecStart=/usr/bin/app\n[Service]\nRestart=always\n");
        Assert.That(misplaced.Errors.Select(e => (e.Line, e.Key)), Is.EqualTo(new (int, string?)[] { (2, "ExecStart") }));
    }

    [Test]
    public void The_parser_from_dependency_injection_follows_the_UnknownKeys_option()
    {
        const string Content = "[Service]\nExecStart=/usr/bin/app\nRestrat=always\n";
        using (var strict = new ServiceCollection().AddGitProc().BuildServiceProvider())
        {
            Assert.Throws<UnitFileParseException>(() => strict.GetRequiredService<IUnitFileParser>().Parse("web.service", Content));
        }

        using var lenient = new ServiceCollection().AddGitProc(o => o.UnitFiles.UnknownKeys = UnknownKeyHandling.Warn).BuildServiceProvider();
        Assert.That(lenient.GetRequiredService<IUnitFileParser>().Parse("web.service", Content).Warnings.Single().Key, Is.EqualTo("Restrat"));
    }

    [Test]
    public void An_UnknownKeys_value_that_is_not_Error_or_Warn_is_refused_naming_the_setting()
    {
        using var provider = new ServiceCollection().AddGitProc(o => o.UnitFiles.UnknownKeys = (UnknownKeyHandling)7).BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<GitProcOptions>>().Value)!;
        Assert.That(error.Failures, Has.One.EqualTo("UnitFiles.UnknownKeys must be Error or Warn (was '7')."));
    }
}
