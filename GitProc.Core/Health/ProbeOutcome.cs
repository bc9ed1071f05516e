namespace GitProc.Health;

/// <summary>One check's outcome (see <see cref="HealthProbe.CheckAsync"/>).</summary>
/// <param name="Error">Why the check failed, in a few words; <see langword="null"/> when healthy.</param>
/// <param name="DaemonShortage">
/// The check could not be made because the daemon is out of descriptors or memory: it says nothing about the service
/// and is not counted.
/// </param>
internal readonly record struct ProbeOutcome(string? Error, bool DaemonShortage = false);
