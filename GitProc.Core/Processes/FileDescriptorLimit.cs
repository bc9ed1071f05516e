using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using GitProc.UnitFiles;

namespace GitProc.Processes;

/// <summary>
/// The open-file limit (<c>RLIMIT_NOFILE</c>) of the daemon and of its services. The daemon raises its
/// soft limit to the hard one at start (<see cref="RaiseSoftToHard"/>), so a thousand services' pipes and pidfds do not
/// run it out of descriptors; its services must not inherit that: each gets its unit's <c>LimitNOFILE=</c> or
/// <see cref="ServiceDefault"/>, the daemon's soft limit before the raise.
/// <para>
/// That original is read the first time this class is used. The framework-dependent (JIT) runtime has raised the soft
/// limit to the hard one before any managed code runs (CoreCLR's PAL does, NativeAOT does not), so when the two are
/// already equal there the original is unknown and services get 1024, systemd's default soft limit for services and the
/// largest value <c>select()</c> can handle (capped at the hard limit).
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
internal static class FileDescriptorLimit
{
    /// <summary>systemd's default soft <c>LimitNOFILE</c> for services (and the kernel's for init).</summary>
    internal const ulong DefaultServiceSoft = 1024;

    /// <summary>The kernel's ceiling when <c>/proc/sys/fs/nr_open</c> cannot be read (its default).</summary>
    private const ulong DefaultKernelMaximum = 1 << 20;

    /// <summary>Bit 24 of the capability sets.</summary>
    private const int CapSysResource = 24;

    private static readonly Lazy<ulong> KernelMaximumValue = new(ReadKernelMaximum);
    private static readonly Lazy<bool> MayRaiseHardValue = new(ReadMayRaiseHard);

#pragma warning disable CA1810 // The order matters: the limit is read before anything can raise it.
    static FileDescriptorLimit()
#pragma warning restore CA1810
    {
        AtStart = Read() ?? new ProcessLimit(DefaultServiceSoft, DefaultServiceSoft);
        ServiceDefault = DefaultFor(AtStart, RuntimeRaisesLimit);
        OriginalUnknown = ServiceDefault != AtStart;
    }

    /// <summary>The limit when this class was first used.</summary>
    public static ProcessLimit AtStart { get; }

    /// <summary>The soft limit before the raise cannot be known (see the class remarks); <see cref="ServiceDefault"/> is then 1024.</summary>
    public static bool OriginalUnknown { get; }

    /// <summary>What a service whose unit sets no <c>LimitNOFILE=</c> gets: the daemon's original soft and hard limits.</summary>
    public static ProcessLimit ServiceDefault { get; }

    /// <summary>The daemon's limit now.</summary>
    public static ProcessLimit Current => Read() ?? AtStart;

    /// <summary>The kernel's ceiling for the limit (<c>fs.nr_open</c>), which stands for <c>infinity</c>.</summary>
    public static ulong KernelMaximum => KernelMaximumValue.Value;

    /// <summary>Whether the runtime raises the soft limit before managed code runs: CoreCLR does, except on musl.</summary>
    private static bool RuntimeRaisesLimit =>
        RuntimeFeature.IsDynamicCodeSupported && !RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal);

    /// <summary>
    /// What services get by default, given the limit first seen: that limit, unless the runtime may have raised the
    /// soft limit already (it is then equal to the hard one), in which case 1024 (capped at the hard limit).
    /// </summary>
    internal static ProcessLimit DefaultFor(ProcessLimit atStart, bool runtimeRaisesLimit) =>
        runtimeRaisesLimit && atStart.Soft == atStart.Hard && atStart.Soft > DefaultServiceSoft
            ? atStart with { Soft = DefaultServiceSoft }
            : atStart;

    /// <summary>Raises the daemon's soft limit to its hard limit.</summary>
    /// <returns>The limit before and after; equal when it was already raised or the raise failed.</returns>
    public static (ProcessLimit Before, ProcessLimit After) RaiseSoftToHard()
    {
        var before = Current;
        if (before.Soft < before.Hard)
        {
            var raised = new Interop.Processes.RLimit { Current = before.Hard, Maximum = before.Hard };
            _ = Interop.Processes.SetRLimit(Interop.Processes.RLIMIT_NOFILE, raised);
        }

        return (before, Current);
    }

    /// <summary>
    /// The limit a service runs with: its unit's, or <see cref="ServiceDefault"/>, lowered to the closest the daemon can
    /// set as systemd's <c>setrlimit_closest()</c> does: a hard limit above the daemon's needs
    /// <c>CAP_SYS_RESOURCE</c>, and <c>infinity</c> or anything above the kernel's ceiling becomes the ceiling.
    /// </summary>
    /// <param name="unitLimit">The unit's <c>LimitNOFILE=</c>, if any.</param>
    /// <param name="current">The daemon's limit.</param>
    /// <param name="mayRaiseHard">Whether the daemon holds <c>CAP_SYS_RESOURCE</c>.</param>
    public static ProcessLimit ForService(ProcessLimit? unitLimit, ProcessLimit current, bool mayRaiseHard)
    {
        var limit = unitLimit ?? ServiceDefault;
        var hard = Math.Min(limit.Hard, mayRaiseHard ? KernelMaximum : current.Hard);
        return new ProcessLimit(Math.Min(limit.Soft, hard), hard);
    }

    /// <summary>Whether this process may raise a hard limit: <c>CAP_SYS_RESOURCE</c> in its effective set (root usually, not always, has it).</summary>
    public static bool MayRaiseHard => MayRaiseHardValue.Value;

    /// <summary>
    /// The shell commands that change <paramref name="from"/> into <paramref name="to"/> (dash's <c>ulimit</c>), in an
    /// order the kernel accepts (the soft limit never above the hard one), ending in <c>|| exit 205</c> (systemd's
    /// EXIT_LIMITS) and a separator; empty when nothing changes. Only numbers are put into the script.
    /// </summary>
    public static string ShellCommands(ProcessLimit to, ProcessLimit from)
    {
        var soft = to.Soft != from.Soft ? string.Create(CultureInfo.InvariantCulture, $"ulimit -S -n {to.Soft}") : null;
        var hard = to.Hard != from.Hard ? string.Create(CultureInfo.InvariantCulture, $"ulimit -H -n {to.Hard}") : null;
        string?[] ordered = to.Hard > from.Hard ? [hard, soft] : [soft, hard];
        var commands = string.Join(" && ", ordered.Where(c => c is not null));
        return commands.Length == 0 ? string.Empty : commands + " || exit 205; ";
    }

    private static ProcessLimit? Read() =>
        Interop.Processes.GetRLimit(Interop.Processes.RLIMIT_NOFILE, out var limit) == 0
            ? new ProcessLimit(limit.Current, limit.Maximum)
            : null;

    private static bool ReadMayRaiseHard()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                {
                    return ulong.TryParse(line.AsSpan("CapEff:".Length).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var effective)
                        && (effective & (1UL << CapSysResource)) != 0;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return false;
    }

    private static ulong ReadKernelMaximum()
    {
        try
        {
            return ulong.TryParse(File.ReadAllText("/proc/sys/fs/nr_open").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : DefaultKernelMaximum;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return DefaultKernelMaximum;
        }
    }
}
