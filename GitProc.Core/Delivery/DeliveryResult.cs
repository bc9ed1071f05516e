namespace GitProc.Delivery;

/// <summary>What became of a commit the daemon saw.</summary>
public enum DeliveryResult
{
    /// <summary>Applied, and its services are being verified.</summary>
    Verifying,

    /// <summary>Applied (and verified, when it started or restarted anything).</summary>
    Applied,

    /// <summary>Not applied: a unit is invalid, or the units form a cycle or miss a required one.</summary>
    Rejected,

    /// <summary>Applied, failed verification, and the previous definitions were put back; never applied again.</summary>
    RolledBack,

    /// <summary>A newer commit was applied before this one's verification ended.</summary>
    Superseded,
}
