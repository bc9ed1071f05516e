using System.IO.Enumeration;
using System.Runtime.Versioning;

namespace GitProc.Processes;

/// <summary>
/// One walk of <c>/proc</c>: the live (non-zombie) processes indexed by process group and by session, so that any
/// number of leaders can be looked up in it. Zombies do not count: they cannot run, and PID 1 in a container may
/// never reap the orphans among them.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ProcSnapshot
{
    // Each live process under its group's leader, and under its session's leader when that differs.
    private readonly Dictionary<int, List<(int Pid, int Group)>> _byLeader;

    internal ProcSnapshot(Dictionary<int, List<(int Pid, int Group)>> byLeader) => _byLeader = byLeader;

    /// <summary>Reads every <c>/proc/PID/stat</c> now.</summary>
    public static ProcSnapshot Take()
    {
        var byLeader = new Dictionary<int, List<(int Pid, int Group)>>();
        try
        {
            // The enumerable opens /proc as it is constructed, so that is inside the try too.
            var pids = new FileSystemEnumerable<int>(
                "/proc",
                static (ref FileSystemEntry entry) => int.Parse(entry.FileName, provider: null),
                new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true, AttributesToSkip = 0 })
            {
                ShouldIncludePredicate = static (ref FileSystemEntry entry) => entry.IsDirectory && IsAllDigits(entry.FileName),
            };
            foreach (var pid in pids)
            {
                if (ProcStat.TryRead(pid, out var stat) && !stat.IsDead)
                {
                    Add(byLeader, stat.ProcessGroup, (pid, stat.ProcessGroup));
                    if (stat.Session != stat.ProcessGroup)
                    {
                        Add(byLeader, stat.Session, (pid, stat.ProcessGroup));
                    }
                }
            }
        }
        catch (IOException)
        {
            // /proc could not be opened (the daemon is out of descriptors): what was found so far is all we know,
            // and the callers look again.
        }

        return new ProcSnapshot(byLeader);
    }

    /// <summary>The live processes whose process group or session is <paramref name="leader"/>; a new list.</summary>
    public List<int> LiveMembers(int leader) =>
        _byLeader.TryGetValue(leader, out var members) ? members.ConvertAll(m => m.Pid) : [];

    /// <summary>
    /// The live processes of <paramref name="leader"/>'s session that moved to another process group: those that
    /// <c>kill(-leader)</c> does not reach.
    /// </summary>
    public List<int> OutsideGroup(int leader) =>
        _byLeader.TryGetValue(leader, out var members) ? [.. members.Where(m => m.Group != leader).Select(m => m.Pid)] : [];

    private static void Add(Dictionary<int, List<(int Pid, int Group)>> byLeader, int leader, (int Pid, int Group) member)
    {
        if (leader <= 0)
        {
            return;
        }

        if (!byLeader.TryGetValue(leader, out var members))
        {
            byLeader[leader] = members = [];
        }

        members.Add(member);
    }

    private static bool IsAllDigits(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
