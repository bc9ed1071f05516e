namespace GitProc.Targeting;

/// <summary>What <c>ConditionHost=</c> is matched against: a host's name and, if known, its machine id.</summary>
/// <param name="HostName">The host name (<see cref="TargetingOptions.HostName"/> for this daemon).</param>
/// <param name="MachineId">The machine id, 32 hexadecimal digits, or <see langword="null"/> when unknown.</param>
public sealed record HostIdentity(string HostName, string? MachineId)
{
    /// <summary>This daemon's identity, from its options.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The identity.</returns>
    public static HostIdentity Of(TargetingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new HostIdentity(options.HostName, string.IsNullOrWhiteSpace(options.MachineId) ? null : UnitFiles.HostPattern.ParseMachineId(options.MachineId.Trim()));
    }

    /// <summary>The host as messages name it: <c>web-1</c>.</summary>
    /// <returns>The host name.</returns>
    public override string ToString() => HostName;
}
