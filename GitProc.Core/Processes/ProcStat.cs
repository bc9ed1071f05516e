using System.Buffers.Text;
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
    /// <summary>Field 4: the parent's pid.</summary>
    public int ParentPid { get; init; }

    /// <summary>
    /// Field 52 (Linux 3.5): the exit status in <c>waitpid</c>'s encoding, meaningful once the process is a zombie;
    /// <see langword="null"/> where the kernel does not show it.
    /// </summary>
    public int? WaitStatus { get; init; }

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
        int parent = 0, pgrp = 0, session = 0, waitStatus = 0;
        long start = 0;
        var field = 3;
        var hasWaitStatus = false;
        while (!rest.IsEmpty && field <= 52)
        {
            var space = rest.IndexOf((byte)' ');
            var token = space < 0 ? rest : rest[..space];
            switch (field)
            {
                case 4 when !Utf8Parser.TryParse(token, out parent, out _):
                case 5 when !Utf8Parser.TryParse(token, out pgrp, out _):
                case 6 when !Utf8Parser.TryParse(token, out session, out _):
                case 22 when !Utf8Parser.TryParse(token, out start, out _):
                    return false;
                case 52:
                    hasWaitStatus = Utf8Parser.TryParse(token.TrimEnd((byte)'\n'), out waitStatus, out _);
                    break;
            }

            field++;
            rest = space < 0 ? [] : rest[(space + 1)..];
        }

        if (field <= 22)
        {
            return false;
        }

        stat = new ProcStat(state, pgrp, session, start) { ParentPid = parent, WaitStatus = hasWaitStatus ? waitStatus : null };
        return true;
    }

    /// <summary>
    /// The live (non-zombie) processes whose process group or session is <paramref name="leader"/>, from a walk of
    /// <c>/proc</c> of its own. Where several stops look at the same time, <see cref="SharedProcScan"/> shares one walk.
    /// </summary>
    public static List<int> FindLiveMembers(int leader) => ProcSnapshot.Take().LiveMembers(leader);
}
