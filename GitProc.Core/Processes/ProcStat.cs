using System.Buffers.Text;
using System.IO.Enumeration;
using System.Runtime.Versioning;

namespace GitProc.Processes;

/// <summary>The fields of <c>/proc/PID/stat</c> the process manager needs.</summary>
/// <param name="State">Field 3: <c>R</c>, <c>S</c>, <c>Z</c> (zombie), …</param>
/// <param name="ProcessGroup">Field 5: pgrp.</param>
/// <param name="Session">Field 6: session id.</param>
/// <param name="StartTicks">Field 22: start time in clock ticks since boot.</param>
[SupportedOSPlatform("linux")]
internal readonly record struct ProcStat(char State, int ProcessGroup, int Session, long StartTicks)
{
    /// <summary>A zombie (or dead) process: it can no longer run and only waits to be reaped.</summary>
    public bool IsDead => State is 'Z' or 'X' or 'x';

    /// <summary>Reads <c>/proc/<paramref name="pid"/>/stat</c>; <see langword="false"/> when the process does not exist.</summary>
    public static bool TryRead(int pid, out ProcStat stat) => TryRead(pid, out stat, out _);

    /// <summary>
    /// <see cref="TryRead(int, out ProcStat)"/>, telling why a read failed: <paramref name="error"/> is the errno
    /// (<c>EMFILE</c> when the daemon is out of descriptors, not when the process is gone), or 0.
    /// </summary>
    public static bool TryRead(int pid, out ProcStat stat, out int error)
    {
        stat = default;
        error = 0;
        Span<byte> buffer = stackalloc byte[1024];
        int length;
        try
        {
            using var handle = File.OpenHandle($"/proc/{pid}/stat");
            length = RandomAccess.Read(handle, buffer, 0);
        }
        catch (IOException ex)
        {
            error = ex is FileNotFoundException or DirectoryNotFoundException ? 2 /* ENOENT */ : ex.HResult;
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            error = 13; // EACCES
            return false;
        }

        return TryParse(buffer[..length], out stat);
    }

    /// <summary>
    /// Parses the content of a stat file. Field 2 (comm) is in parentheses and may itself contain spaces and
    /// <c>)</c>, so the fields are counted from the LAST <c>)</c>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> content, out ProcStat stat)
    {
        stat = default;
        var close = content.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= content.Length)
        {
            return false;
        }

        // After ") " comes field 3; field k is the (k-3)th space-separated token.
        var rest = content[(close + 2)..];
        char state = (char)rest[0];
        int pgrp = 0, session = 0;
        long start = 0;
        var field = 3;
        while (!rest.IsEmpty && field <= 22)
        {
            var space = rest.IndexOf((byte)' ');
            var token = space < 0 ? rest : rest[..space];
            switch (field)
            {
                case 5 when !Utf8Parser.TryParse(token, out pgrp, out _):
                case 6 when !Utf8Parser.TryParse(token, out session, out _):
                case 22 when !Utf8Parser.TryParse(token, out start, out _):
                    return false;
            }

            field++;
            rest = space < 0 ? [] : rest[(space + 1)..];
        }

        if (field <= 22)
        {
            return false;
        }

        stat = new ProcStat(state, pgrp, session, start);
        return true;
    }

    /// <summary>
    /// The live (non-zombie) processes whose process group or session is <paramref name="leader"/>. Zombies do not
    /// count: they cannot run, and PID 1 in a container may never reap the orphans among them.
    /// </summary>
    public static List<int> FindLiveMembers(int leader)
    {
        var members = new List<int>();
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
                if (TryRead(pid, out var stat) && !stat.IsDead && (stat.ProcessGroup == leader || stat.Session == leader))
                {
                    members.Add(pid);
                }
            }
        }
        catch (IOException)
        {
            // /proc could not be opened (the daemon is out of descriptors): what was found so far is all we know,
            // and the callers look again.
        }

        return members;
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
