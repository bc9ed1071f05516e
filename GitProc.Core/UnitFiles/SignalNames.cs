using System.Globalization;

namespace GitProc.UnitFiles;

/// <summary>Linux signal names and numbers (x86 and ARM numbering, glibc's SIGRTMIN of 34).</summary>
internal static class SignalNames
{
    internal const int Max = 64;
    private const int RealTimeMin = 34;

    private static readonly Dictionary<string, int> ByName = new(StringComparer.Ordinal)
    {
        ["HUP"] = 1,
        ["INT"] = 2,
        ["QUIT"] = 3,
        ["ILL"] = 4,
        ["TRAP"] = 5,
        ["ABRT"] = 6,
        ["IOT"] = 6,
        ["BUS"] = 7,
        ["FPE"] = 8,
        ["KILL"] = 9,
        ["USR1"] = 10,
        ["SEGV"] = 11,
        ["USR2"] = 12,
        ["PIPE"] = 13,
        ["ALRM"] = 14,
        ["TERM"] = 15,
        ["STKFLT"] = 16,
        ["CHLD"] = 17,
        ["CONT"] = 18,
        ["STOP"] = 19,
        ["TSTP"] = 20,
        ["TTIN"] = 21,
        ["TTOU"] = 22,
        ["URG"] = 23,
        ["XCPU"] = 24,
        ["XFSZ"] = 25,
        ["VTALRM"] = 26,
        ["PROF"] = 27,
        ["WINCH"] = 28,
        ["IO"] = 29,
        ["POLL"] = 29,
        ["PWR"] = 30,
        ["SYS"] = 31,
    };

    /// <summary>
    /// The name of a signal without its <c>SIG</c> prefix (<c>TERM</c>), as systemd puts it in <c>$EXIT_STATUS</c>; the
    /// number as text for one without a name.
    /// </summary>
    internal static string ToName(int signal)
    {
        foreach (var (name, number) in ByName)
        {
            // The first name of a number is its usual one (ABRT before IOT, IO before POLL).
            if (number == signal)
            {
                return name;
            }
        }

        return signal switch
        {
            RealTimeMin => "RTMIN",
            Max => "RTMAX",
            > RealTimeMin and < Max => string.Create(CultureInfo.InvariantCulture, $"RTMIN+{signal - RealTimeMin}"),
            _ => signal.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>The number of a signal name without its <c>SIG</c> prefix, or <see langword="null"/>.</summary>
    internal static int? FromName(string name)
    {
        if (ByName.TryGetValue(name, out var number))
        {
            return number;
        }

        if (name == "RTMIN")
        {
            return RealTimeMin;
        }

        if (name == "RTMAX")
        {
            return Max;
        }

        if (name.StartsWith("RTMIN+", StringComparison.Ordinal) && TryOffset(name.AsSpan(6), out var up) && RealTimeMin + up <= Max)
        {
            return RealTimeMin + up;
        }

        if (name.StartsWith("RTMAX-", StringComparison.Ordinal) && TryOffset(name.AsSpan(6), out var down) && Max - down >= RealTimeMin)
        {
            return Max - down;
        }

        return null;
    }

    private static bool TryOffset(ReadOnlySpan<char> text, out int value)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && text.Length <= 3;
}
