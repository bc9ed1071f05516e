namespace GitProc;

/// <summary>
/// The default locations: system paths for root, XDG base-directory paths for everyone else
/// (with the XDG specification's own fallbacks when a variable is unset).
/// </summary>
public static class DefaultPaths
{
    /// <summary>Whether the defaults are the system ones (the process runs as root).</summary>
    public static bool IsSystem => Environment.IsPrivilegedProcess;

    /// <summary>The default repository of unit files.</summary>
    public static string Repository => IsSystem
        ? "/etc/gitproc/services"
        : Path.Combine(XdgDataHome, "gitproc", "services");

    /// <summary>The default state file.</summary>
    public static string State => IsSystem
        ? "/var/lib/gitproc/state.json"
        : Path.Combine(XdgStateHome, "gitproc", "state.json");

    /// <summary>The default socket.</summary>
    public static string Socket => IsSystem
        ? "/run/gitproc.sock"
        : Path.Combine(XdgRuntimeDir, "gitproc.sock");

    /// <summary>The default log directory.</summary>
    public static string LogDirectory => IsSystem
        ? "/var/log/gitproc"
        : Path.Combine(XdgStateHome, "gitproc", "logs");

    private static string Home => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    private static string XdgDataHome => XdgOr("XDG_DATA_HOME", Path.Combine(Home, ".local", "share"));

    private static string XdgStateHome => XdgOr("XDG_STATE_HOME", Path.Combine(Home, ".local", "state"));

    // Without XDG_RUNTIME_DIR (no login session) a per-user name in /tmp keeps users apart.
    private static string XdgRuntimeDir => XdgOr("XDG_RUNTIME_DIR", Path.Combine(Path.GetTempPath(), $"gitproc-{Environment.UserName}"));

    // The XDG specification says relative values are invalid and must be ignored.
    private static string XdgOr(string variable, string fallback)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return !string.IsNullOrEmpty(value) && Path.IsPathRooted(value) ? value : fallback;
    }
}
