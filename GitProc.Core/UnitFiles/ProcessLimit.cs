using System.Globalization;

namespace GitProc.UnitFiles;

/// <summary>
/// A per-process resource limit as systemd's <c>Limit*=</c> keys set it (setrlimit(2)): a soft value, which the
/// process may raise up to the hard one, and the hard value. <see cref="Infinity"/> stands for <c>infinity</c>.
/// </summary>
/// <param name="Soft">The soft limit.</param>
/// <param name="Hard">The hard limit, at least <paramref name="Soft"/>.</param>
public readonly record struct ProcessLimit(ulong Soft, ulong Hard)
{
    /// <summary><c>infinity</c> (<c>RLIM_INFINITY</c>).</summary>
    public const ulong Infinity = ulong.MaxValue;

    /// <summary>As systemd writes it: <c>N</c> when both are the same, else <c>SOFT:HARD</c>.</summary>
    public override string ToString() => Soft == Hard ? Format(Soft) : $"{Format(Soft)}:{Format(Hard)}";

    private static string Format(ulong value) => value == Infinity ? "infinity" : value.ToString(CultureInfo.InvariantCulture);
}
