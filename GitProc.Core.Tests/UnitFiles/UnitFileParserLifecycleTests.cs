using GitProc.UnitFiles;

namespace GitProc.Core.Tests.UnitFiles;

/// <summary>OOMPolicy=, RemainAfterExit=, ExecStopPost= and ReloadSignal=, as systemd reads them.</summary>
public class UnitFileParserLifecycleTests
{
    private static UnitFile Service(string serviceLines, string type = "simple") =>
        UnitFileParser.Parse("web.service", $"[Service]\nType={type}\nExecStart=/usr/bin/app\n{serviceLines}\n");

    [Test]
    public void OOMPolicy_takes_stop_continue_and_kill_and_defaults_to_stop()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Service(string.Empty).OomPolicy, Is.EqualTo(OomPolicy.Stop));
            Assert.That(Service("OOMPolicy=continue").OomPolicy, Is.EqualTo(OomPolicy.Continue));
            Assert.That(Service("OOMPolicy=kill").OomPolicy, Is.EqualTo(OomPolicy.Kill));
            Assert.That(Service("OOMPolicy=kill\nOOMPolicy=").OomPolicy, Is.EqualTo(OomPolicy.Stop), "an empty assignment resets it");
            Assert.That(Service("OOMPolicy=continue").Warnings, Is.Empty, "a key GitProc acts on");
        });
    }

    [TestCase("OOMPolicy=ignore", "not an OOM policy; use stop, continue or kill")]
    [TestCase("RemainAfterExit=maybe", "not a boolean")]
    [TestCase("ReloadSignal=SIGNOPE", "not a signal")]
    [TestCase("ExecStopPost=/bin/echo 'unbalanced", "The command line")]
    public void Bad_values_are_errors_naming_file_line_key_and_value(string line, string reason)
    {
        var error = Assert.Throws<UnitFileParseException>(() => Service(line))!;

        var key = line[..line.IndexOf('=', StringComparison.Ordinal)];
        Assert.That(error.Message, Does.Contain(reason).And.StartWith($"web.service:4: {line}:"));
        Assert.That((error.Line, error.Key, error.Value), Is.EqualTo((4, key, line[(key.Length + 1)..])));
    }

    [TestCase("yes", true)]
    [TestCase("true", true)]
    [TestCase("on", true)]
    [TestCase("1", true)]
    [TestCase("no", false)]
    [TestCase("off", false)]
    [TestCase("", false)]
    public void RemainAfterExit_is_a_systemd_boolean(string value, bool expected)
    {
        var unit = Service($"RemainAfterExit={value}", type: "oneshot");

        Assert.That(unit.RemainAfterExit, Is.EqualTo(expected));
        Assert.That(unit.Warnings, Is.Empty);
    }

    [Test]
    public void RemainAfterExit_on_a_service_that_is_not_a_oneshot_is_a_warning_and_has_no_effect()
    {
        var unit = Service("RemainAfterExit=yes");

        Assert.That(unit.RemainAfterExit, Is.False);
        Assert.That(unit.Warnings.Single().Key, Is.EqualTo("RemainAfterExit"));
        Assert.That(unit.Warnings.Single().Line, Is.EqualTo(4));
        Assert.That(unit.Warnings.Single().Message, Does.Contain("only has an effect on Type=oneshot"));
    }

    [Test]
    public void ExecStopPost_accumulates_and_an_empty_assignment_resets_it()
    {
        var unit = Service("ExecStopPost=/bin/one\nExecStopPost=-/bin/two a b\nExecStopPost=\nExecStopPost=/bin/three $EXIT_STATUS");

        Assert.That(unit.ExecStopPost.Select(c => c.Arguments), Is.EqualTo(new[] { new[] { "/bin/three", "$EXIT_STATUS" } }));
        Assert.That(Service("ExecStopPost=-/bin/two").ExecStopPost.Single().IgnoreFailure, Is.True);
    }

    [TestCase("ReloadSignal=SIGHUP", 1)]
    [TestCase("ReloadSignal=USR1", 10)]
    [TestCase("ReloadSignal=12", 12)]
    [TestCase("", null)]
    public void ReloadSignal_is_a_signal_and_unset_by_default(string line, int? signal) =>
        Assert.That(Service(line).ReloadSignal, Is.EqualTo(signal));
}
