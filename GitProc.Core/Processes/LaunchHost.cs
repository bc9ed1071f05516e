using System.Globalization;
using GitProc.UnitFiles;

namespace GitProc.Processes;

/// <summary>The daemon as a launch plan sees it: what its services inherit, who it runs as, what it may change.</summary>
/// <param name="InheritedEnvironment">The daemon's variables every service gets (PATH, LANG, LC_ALL, TZ).</param>
/// <param name="Account">The daemon's user: HOME, USER, LOGNAME and SHELL of a service without User=.</param>
/// <param name="Uid">The daemon's effective uid.</param>
/// <param name="Gid">The daemon's effective gid.</param>
/// <param name="IsPrivileged">Whether switching user and group is allowed (the daemon runs as root).</param>
/// <param name="OpenFileLimit">The daemon's open-file limit now; a service with another gets the shim's <c>ulimit</c>.</param>
/// <param name="MayRaiseHardLimit">Whether a service's hard open-file limit may be raised above the daemon's.</param>
internal sealed record LaunchHost(
    IReadOnlyList<KeyValuePair<string, string>> InheritedEnvironment,
    UserAccount Account,
    uint Uid,
    uint Gid,
    bool IsPrivileged,
    ProcessLimit OpenFileLimit,
    bool MayRaiseHardLimit)
{
    /// <summary>systemd's search path, used when the daemon has no PATH.</summary>
    internal const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>This process, as it is now.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static LaunchHost OfThisProcess(bool isPrivileged)
    {
        var inherited = new List<KeyValuePair<string, string>>
        {
            new("PATH", Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path ? path : DefaultPath),
        };
        foreach (var name in (ReadOnlySpan<string>)["LANG", "LC_ALL", "TZ"])
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                inherited.Add(new(name, value));
            }
        }

        var euid = Interop.Processes.GetEUid();
        var egid = Interop.Processes.GetEGid();
        var account = UserAccount.Find(euid.ToString(CultureInfo.InvariantCulture)) is { InDatabase: true } found
            ? found
            : new UserAccount(
                Environment.GetEnvironmentVariable("USER") ?? Environment.UserName,
                euid,
                egid,
                Environment.GetEnvironmentVariable("HOME") ?? "/",
                Environment.GetEnvironmentVariable("SHELL") ?? LaunchPlanner.Shell,
                InDatabase: false);
        return new LaunchHost([.. inherited], account, euid, egid, isPrivileged, FileDescriptorLimit.Current, FileDescriptorLimit.MayRaiseHard);
    }
}
