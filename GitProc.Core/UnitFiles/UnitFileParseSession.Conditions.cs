namespace GitProc.UnitFiles;

/// <summary>The [Unit] conditions GitProc acts on: <c>ConditionHost=</c>, with systemd's <c>|</c> and <c>!</c> prefixes and resets.</summary>
internal sealed partial class UnitFileParseSession
{
    private const string ConditionHostKey = "ConditionHost";

    private readonly List<(HostCondition Condition, int Line)> _hostConditions = [];

    /// <summary>Assigns <c>ConditionHost=</c>, or applies an empty <c>Condition…=</c>'s reset; <see langword="false"/> for any other key.</summary>
    private bool AssignCondition(string key, string value, int line)
    {
        if (key == ConditionHostKey)
        {
            if (value.Length == 0)
            {
                _hostConditions.Clear();
            }
            else
            {
                _hostConditions.Add((ParseHostCondition(key, value, line), line));
            }

            return true;
        }

        // systemd: "If any of these options is assigned the empty string, the list of conditions is reset completely, all
        // previous condition settings (of any type) will be removed." The key itself is one GitProc does not act on.
        if (value.Length == 0 && key.StartsWith("Condition", StringComparison.Ordinal) && SystemdKeys.Unit.Contains(key) && _hostConditions.Count > 0)
        {
            var lines = string.Join(", ", _hostConditions.Select(static c => c.Line));
            Warn(line, key, $"An empty {key}= resets every condition of the unit, as in systemd, including the ConditionHost= above (line {lines}); the unit now runs on every host.");
            _hostConditions.Clear();
        }

        return false;
    }

    /// <summary>systemd's <c>config_parse_unit_condition_string()</c>: <c>|</c> first, then <c>!</c>, each followed by optional whitespace.</summary>
    private HostCondition ParseHostCondition(string key, string value, int line)
    {
        var rest = value.AsSpan();
        var triggering = rest[0] == '|';
        if (triggering)
        {
            rest = rest[1..].TrimStart(SystemdText.Whitespace);
        }

        var negated = rest.Length > 0 && rest[0] == '!';
        if (negated)
        {
            rest = rest[1..].TrimStart(SystemdText.Whitespace);
        }

        if (rest.Length == 0)
        {
            throw Error(line, key, value, $"The value has nothing after '{(negated ? '!' : '|')}'; write a host name or pattern such as web-*, or a machine id.");
        }

        if (rest[0] == '|')
        {
            throw Error(line, key, value, "The '|' must come first: write ConditionHost=|!NAME for a triggering, negated condition.");
        }

        var text = rest.ToString();
        if (HostPattern.ParseMachineId(text) is { } machineId)
        {
            return new HostCondition { Value = text, MachineId = machineId, Negated = negated, Triggering = triggering };
        }

        if (HostPattern.Problem(text) is { } problem)
        {
            throw Error(line, key, value, problem);
        }

        return new HostCondition { Value = text, Negated = negated, Triggering = triggering };
    }

    private IReadOnlyList<HostCondition> HostConditions() => [.. _hostConditions.Select(static c => c.Condition)];
}
