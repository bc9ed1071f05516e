namespace GitProc.Targeting;

/// <summary>This machine's host name and machine id, the defaults of <see cref="GitProcOptions.HostName"/> and <see cref="GitProcOptions.MachineId"/>.</summary>
internal static class LocalHost
{
    private static readonly Lazy<string> LazyName = new(ReadName);
    private static readonly Lazy<string?> LazyMachineId = new(ReadMachineId);

    /// <summary>
    /// The kernel's node name, as <c>hostname</c> and systemd's <c>gethostname()</c> give it (for the daemon's UTS namespace,
    /// so a container's own name). Not <see cref="Environment.MachineName"/>, which .NET cuts at the first dot on Unix:
    /// a pattern such as <c>*.eu.example.com</c> must see the whole name, as systemd does.
    /// </summary>
    public static string Name => LazyName.Value;

    /// <summary><c>/etc/machine-id</c> (machine-id(5)) in lower case; <see langword="null"/> when missing or not an id.</summary>
    public static string? MachineId => LazyMachineId.Value;

    private static string ReadName()
    {
        try
        {
            var name = File.ReadAllText("/proc/sys/kernel/hostname").Trim();
            if (name.Length > 0)
            {
                return name;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or /proc is not mounted.
        }

        return Environment.MachineName;
    }

    private static string? ReadMachineId()
    {
        try
        {
            return UnitFiles.HostPattern.ParseMachineId(File.ReadAllText("/etc/machine-id").Trim());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A minimal container has none; machine id conditions then never hold, as systemd counts an unknown id.
            return null;
        }
    }
}
