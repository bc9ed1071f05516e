using GitProc.Targeting;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.UnitFiles;

/// <summary>
/// <c>ConditionHost=</c> as systemd reads it (systemd.unit(5)): a host name glob matched ignoring case, or a machine id;
/// <c>!</c> negates, <c>|</c> makes a triggering condition, an empty assignment of any condition resets them all. A value
/// that could never match a host is refused with the file, line and key.
/// </summary>
public class UnitFileParserConditionTests
{
    private const string MachineId = "0123456789abcdef0123456789abcdef";

    private static UnitFile Unit(string unitLines) => UnitFileParser.Parse("app.service", $"[Unit]\n{unitLines}\n[Service]\nExecStart=/usr/bin/app\n");

    private static UnitFileParseException Refused(string unitLines) =>
        Assert.Throws<UnitFileParseException>(() => Unit(unitLines))!;

    /// <summary>Whether the unit runs on <paramref name="host"/>, as the supervisor decides it.</summary>
    private static bool RunsOn(UnitFile unit, string host, string? machineId = null) =>
        HostTargeting.Unmet(unit, new HostIdentity(host, machineId)) is null;

    [Test]
    public void A_unit_without_ConditionHost_runs_everywhere_and_has_no_warning_for_it()
    {
        var unit = Unit("ConditionHost=web-1");
        Assert.That(unit.Warnings, Is.Empty, "ConditionHost= is acted on, not a systemd key kept but ignored");
        Assert.That(RunsOn(Unit("Description=x"), "anything"), Is.True);
    }

    [TestCase("web-1", "web-1", true)]
    [TestCase("web-1", "WEB-1", true)]
    [TestCase("WEB-*", "web-7", true)]
    [TestCase("web-*", "db-1", false)]
    [TestCase("web-*", "web-", true)]
    [TestCase("web-?", "web-12", false)]
    [TestCase("web-??", "web-12", true)]
    [TestCase("web-[12]", "web-2", true)]
    [TestCase("web-[12]", "web-3", false)]
    [TestCase("web-[0-9]", "web-5", true)]
    [TestCase("web-[!0-9]", "web-5", false)]
    [TestCase("web-[^0-9]", "web-a", true)]
    [TestCase("node[a-c]", "NODEB", true)]
    [TestCase("*.eu.example.com", "web-1.eu.example.com", true)]
    [TestCase("*.eu.example.com", "web-1.us.example.com", false)]
    [TestCase("web-1", "web-1.example.com", false)]
    [TestCase("*-*-1", "web-eu-1", true)]
    [TestCase("*", "x", true)]
    public void A_host_name_pattern_matches_like_fnmatch_ignoring_case(string pattern, string host, bool runs)
    {
        Assert.That(RunsOn(Unit("ConditionHost=" + pattern), host), Is.EqualTo(runs));
    }

    [Test]
    public void Negation_runs_the_unit_everywhere_but_the_matching_hosts()
    {
        var unit = Unit("ConditionHost=!db-*");
        Assert.That(unit.ConditionHost, Is.EqualTo(new[] { new HostCondition { Value = "db-*", Negated = true } }));
        Assert.That(RunsOn(unit, "web-1"), Is.True);
        Assert.That(RunsOn(unit, "db-1"), Is.False);
        Assert.That(HostTargeting.Unmet(unit, new HostIdentity("db-1", null)), Is.EqualTo("ConditionHost=!db-* is not met on host db-1"));
    }

    [Test]
    public void Whitespace_after_the_prefixes_is_allowed_as_in_systemd()
    {
        Assert.That(Unit("ConditionHost=| ! db-*").ConditionHost.Single(), Is.EqualTo(new HostCondition { Value = "db-*", Negated = true, Triggering = true }));
    }

    [Test]
    public void Every_condition_must_hold()
    {
        var unit = Unit("ConditionHost=web-*\nConditionHost=!web-canary");
        Assert.That(RunsOn(unit, "web-1"), Is.True);
        Assert.That(RunsOn(unit, "web-canary"), Is.False);
        Assert.That(RunsOn(unit, "db-1"), Is.False);
        Assert.That(HostTargeting.Unmet(unit, new HostIdentity("db-1", null)), Is.EqualTo("ConditionHost=web-* is not met on host db-1"), "the first one that fails");
    }

    [Test]
    public void With_triggering_conditions_one_of_them_is_enough_and_the_others_must_still_hold()
    {
        var unit = Unit("ConditionHost=|web-*\nConditionHost=|api-*\nConditionHost=!*-canary");
        Assert.That(RunsOn(unit, "web-1"), Is.True);
        Assert.That(RunsOn(unit, "api-2"), Is.True);
        Assert.That(RunsOn(unit, "db-1"), Is.False);
        Assert.That(RunsOn(unit, "web-canary"), Is.False);
        Assert.That(
            HostTargeting.Unmet(unit, new HostIdentity("db-1", null)),
            Is.EqualTo("none of ConditionHost=|web-*, ConditionHost=|api-* is met on host db-1"));
    }

    [Test]
    public void A_machine_id_is_compared_with_the_hosts_machine_id_not_its_name()
    {
        var unit = Unit("ConditionHost=" + MachineId.ToUpperInvariant());
        Assert.That(unit.ConditionHost.Single().MachineId, Is.EqualTo(MachineId));
        Assert.That(RunsOn(unit, "web-1", MachineId), Is.True);
        Assert.That(RunsOn(unit, MachineId, "fedcba9876543210fedcba9876543210"), Is.False);
        Assert.That(
            HostTargeting.Unmet(unit, new HostIdentity("web-1", "fedcba9876543210fedcba9876543210")),
            Is.EqualTo($"ConditionHost={MachineId.ToUpperInvariant()} is not met on host web-1 (machine id fedcba9876543210fedcba9876543210)"));
    }

    [Test]
    public void A_machine_id_may_be_written_as_a_uuid()
    {
        var unit = Unit("ConditionHost=01234567-89ab-cdef-0123-456789abcdef");
        Assert.That(RunsOn(unit, "web-1", MachineId), Is.True);
    }

    [Test]
    public void A_machine_id_condition_does_not_hold_where_the_machine_id_is_unknown_even_negated()
    {
        Assert.That(RunsOn(Unit("ConditionHost=" + MachineId), "web-1"), Is.False);
        var negated = Unit("ConditionHost=!" + MachineId);
        Assert.That(RunsOn(negated, "web-1"), Is.False, "systemd counts a condition it cannot check as failed");
        Assert.That(
            HostTargeting.Unmet(negated, new HostIdentity("web-1", null)),
            Is.EqualTo($"ConditionHost=!{MachineId} cannot be checked on host web-1: its machine id is unknown"));
    }

    [Test]
    public void An_empty_assignment_resets_the_list()
    {
        var unit = Unit("ConditionHost=db-*\nConditionHost=\nConditionHost=web-*");
        Assert.That(unit.ConditionHost.Select(c => c.Value), Is.EqualTo(new[] { "web-*" }));
        Assert.That(Unit("ConditionHost=db-*\nConditionHost=").ConditionHost, Is.Empty);
    }

    [Test]
    public void An_empty_assignment_of_another_condition_resets_ConditionHost_too_with_a_warning()
    {
        var unit = Unit("ConditionHost=db-*\nConditionPathExists=");
        Assert.That(unit.ConditionHost, Is.Empty);
        Assert.That(
            unit.Warnings.Select(w => w.ToString()),
            Does.Contain("app.service:3: ConditionPathExists: An empty ConditionPathExists= resets every condition of the unit, as in systemd, including the ConditionHost= above (line 2); the unit now runs on every host."));
    }

    [Test]
    public void Other_conditions_are_kept_but_ignored_and_do_not_touch_ConditionHost()
    {
        var unit = Unit("ConditionHost=db-*\nConditionPathExists=/etc/db");
        Assert.That(unit.ConditionHost.Single().Value, Is.EqualTo("db-*"));
        Assert.That(unit.Warnings.Single().Key, Is.EqualTo("ConditionPathExists"));
    }

    [TestCase("ConditionHost=web-1 web-2", "The value holds more than one name; ConditionHost= takes one host name or pattern: write a glob (web-*), a set (web-[12]), or one ConditionHost=| line per host (the '|' makes any one of them enough).")]
    [TestCase("ConditionHost=web-1,web-2", "The value holds more than one name; ConditionHost= takes one host name or pattern: write a glob (web-*), a set (web-[12]), or one ConditionHost=| line per host (the '|' makes any one of them enough).")]
    [TestCase("ConditionHost=%H", "Specifiers such as %H are not expanded in ConditionHost=; write the host name or pattern itself.")]
    [TestCase("ConditionHost=web-[12", "The '[' at position 5 is not closed; write a set such as web-[12] or a range such as web-[0-9].")]
    [TestCase("ConditionHost=web-[]", "The set at position 5 is empty; write the characters it allows, such as [12] or [0-9].")]
    [TestCase("ConditionHost=web-1]", "The ']' closes no '['; write a set such as web-[12].")]
    [TestCase("ConditionHost=web/1", "'/' cannot be part of a host name; ConditionHost= takes a host name (letters, digits, '-', '.', '_', with the globs *, ? and [...]) or a machine id (32 hexadecimal digits).")]
    [TestCase("ConditionHost=!", "The value has nothing after '!'; write a host name or pattern such as web-*, or a machine id.")]
    [TestCase("ConditionHost=|", "The value has nothing after '|'; write a host name or pattern such as web-*, or a machine id.")]
    [TestCase("ConditionHost=!|web-1", "The '|' must come first: write ConditionHost=|!NAME for a triggering, negated condition.")]
    public void A_value_that_could_never_name_a_host_is_refused_naming_file_line_and_key(string line, string reason)
    {
        var error = Refused("Description=x\n" + line);
        var value = line["ConditionHost=".Length..];
        Assert.That(error.Message, Is.EqualTo($"app.service:3: ConditionHost={value}: {reason}"));
        Assert.That((error.Line, error.Key, error.Value), Is.EqualTo((3, "ConditionHost", value)));
    }

    [Test]
    public void ConditionHost_under_Service_is_an_error_because_it_would_silently_run_everywhere()
    {
        var error = Assert.Throws<UnitFileParseException>(() => UnitFileParser.Parse("app.service", "[Service]\nExecStart=/usr/bin/app\nConditionHost=web-*\n"))!;
        Assert.That(error.Message, Is.EqualTo("app.service:3: ConditionHost: ConditionHost= belongs in [Unit], not [Service], so GitProc does not act on it here. Move it to [Unit]."));
    }

    [Test]
    public void A_changed_ConditionHost_is_a_changed_unit()
    {
        var before = Unit("ConditionHost=web-*");
        var after = Unit("ConditionHost=db-*");
        Assert.That(GitProc.Supervision.UnitDefinition.ChangedKeys(before, after), Is.EqualTo(new[] { "ConditionHost" }));
    }
}
