namespace GitProc.UnitFiles;

/// <summary>
/// One <c>[Unit] ConditionHost=</c> (systemd.unit(5)): the unit runs only on a host whose name matches <see cref="Value"/>,
/// a shell-style glob compared ignoring case (systemd's <c>fnmatch(FNM_CASEFOLD)</c>), or, when the value is a machine id,
/// whose machine id is <see cref="MachineId"/>.
/// </summary>
public sealed record HostCondition
{
    /// <summary>The host name pattern or machine id as written, without the <c>|</c> and <c>!</c> prefixes.</summary>
    public required string Value { get; init; }

    /// <summary>
    /// The machine id, when <see cref="Value"/> is one (32 hexadecimal digits, or a UUID with dashes, as systemd reads it),
    /// in lower case without dashes as <c>/etc/machine-id</c> holds it; <see langword="null"/> for a host name pattern.
    /// </summary>
    public string? MachineId { get; init; }

    /// <summary>Written with <c>!</c>: the condition holds where the value does not match.</summary>
    public bool Negated { get; init; }

    /// <summary>
    /// Written with <c>|</c>: a triggering condition. A unit with triggering conditions runs where at least one of them
    /// holds (and every other condition holds).
    /// </summary>
    public bool Triggering { get; init; }

    /// <summary>
    /// Whether the condition holds on a host: <see langword="null"/> when that cannot be told, which systemd counts as not
    /// holding (a machine id condition on a host whose machine id is unknown).
    /// </summary>
    /// <param name="hostName">The host's name.</param>
    /// <param name="machineId">The host's machine id (32 hexadecimal digits), if known.</param>
    /// <returns>Whether it holds, negation applied.</returns>
    public bool? HoldsOn(string hostName, string? machineId)
    {
        ArgumentNullException.ThrowIfNull(hostName);
        if (MachineId is { } wanted)
        {
            return machineId is null ? null : string.Equals(wanted, machineId, StringComparison.OrdinalIgnoreCase) != Negated;
        }

        return HostPattern.Matches(Value, hostName) != Negated;
    }

    /// <summary>The assignment as written: <c>ConditionHost=|!web-*</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"ConditionHost={(Triggering ? "|" : "")}{(Negated ? "!" : "")}{Value}";
}
