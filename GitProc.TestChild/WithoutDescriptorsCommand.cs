using System.Runtime.Versioning;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.UnitFiles;
using Microsoft.Win32.SafeHandles;

namespace GitProc.TestChild;

/// <summary>
/// <c>without-descriptors DIR</c>: runs out of file descriptors on purpose (a low soft limit, then every descriptor
/// taken), and reports, one <c>key=value</c> line each, what the parts that must degrade do: a service start, a cgroup
/// file read, a <c>/proc</c> read, the descriptor reserve. Everything each step needs is used once first, while
/// descriptors are plentiful, so nothing but the shortage itself is measured.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class WithoutDescriptorsCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: GitProc.TestChild without-descriptors <dir>");
            return 2;
        }

        var file = Path.Combine(args[0], "cgroup-like-file");
        await File.WriteAllTextAsync(file, "42\n");
        var unit = UnitFileParser.Parse("sleeper.service", "[Service]\nExecStart=/bin/sleep 30\n");
        using var manager = new ProcessManager();

        // Warm-up, with descriptors to spare.
        var warm = await manager.StartAsync(new ProcessLaunch(unit, unit.ExecStartCommands[0]) { DefaultWorkingDirectory = args[0] });
        await warm.StopAsync(15, TimeSpan.FromSeconds(5));
        _ = await CgroupFiles.ReadNumberAsync(file, CancellationToken.None);
        _ = ProcStat.TryRead(Environment.ProcessId, out _, out _);
        _ = ProcStat.FindLiveMembers(Environment.ProcessId);
        _ = ResourceShortage.Is(new IOException());
        Report("ready", "yes");
        DescriptorReserve.Hold(8);

        // Every descriptor taken: a low soft limit, filled up.
        var limit = new Interop.Processes.RLimit { Current = 256, Maximum = FileDescriptorLimit.Current.Hard };
        _ = Interop.Processes.SetRLimit(Interop.Processes.RLIMIT_NOFILE, limit);
        var filler = new List<SafeFileHandle>();
        Fill(filler);

        // Fewer free than a start needs beyond the reserve: the start is refused before it opens anything, and what is
        // free stays free for the runtime, which needs a descriptor to create a thread.
        var left = 4 + DescriptorReserve.Headroom - 1;
        Free(filler, left);
        var start = await TryStartAsync(manager, unit, args[0]);
        var thread = TryStartThread();
        var released = DescriptorReserve.IsReleased;

        // With just enough room, a start goes ahead and leaves the headroom free.
        Fill(filler);
        Free(filler, 4 + DescriptorReserve.Headroom);
        var startWithRoom = await TryStartAsync(manager, unit, args[0], keep: true);
        var headroomAfter = CanOpen(DescriptorReserve.Headroom);

        // Anything that meets the limit hands the reserve to the rest of the process (a cgroup read here); the reserve
        // is not taken back until there is room for it and for a start.
        Fill(filler);
        string read;
        try
        {
            read = $"value {await CgroupFiles.ReadNumberAsync(file, CancellationToken.None)}";
        }
        catch (ResourceControlException ex)
        {
            read = $"{ResourceShortage.Is(ex)} {ex.Message}";
        }

        var readReleased = DescriptorReserve.IsReleased;
        var heldAgainWhileShort = DescriptorReserve.HasRoomFor(0);

        // The reserve's descriptors, handed back, are taken by others again: reads degrade into errors that say so.
        Fill(filler);
        var statRead = ProcStat.TryRead(Environment.ProcessId, out _, out var statError);
        var members = ProcStat.FindLiveMembers(Environment.ProcessId);

        Free(filler, filler.Count);
        var heldAgain = DescriptorReserve.HasRoomFor(4);
        await StopKeptAsync();
        DescriptorReserve.Stop();

        Report("start", start);
        Report("thread-after-refused-start", thread);
        Report("reserve-released-by-refused-start", released.ToString());
        Report("start-with-room", startWithRoom);
        Report("headroom-after-start", headroomAfter.ToString());
        Report("cgroup-read", read);
        Report("reserve-released", readReleased.ToString());
        Report("reserve-taken-while-short", heldAgainWhileShort.ToString());
        Report("proc-stat", $"{statRead} {statError}");
        Report("members", members.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Report("reserve-taken-after", heldAgain.ToString());
        return 0;
    }

    private static readonly List<IServiceProcess> Kept = [];

    private static async Task<string> TryStartAsync(ProcessManager manager, UnitFile unit, string directory, bool keep = false)
    {
        try
        {
            var process = await manager.StartAsync(new ProcessLaunch(unit, unit.ExecStartCommands[0]) { DefaultWorkingDirectory = directory });
            if (keep)
            {
                Kept.Add(process);
            }
            else
            {
                await process.StopAsync(15, TimeSpan.FromSeconds(5));
            }

            return "started";
        }
        catch (ProcessStartException ex)
        {
            return $"{ex.IsResourceShortage} {ex.Message}";
        }
    }

    private static async Task StopKeptAsync()
    {
        foreach (var process in Kept)
        {
            await process.StopAsync(15, TimeSpan.FromSeconds(5));
            await process.DisposeAsync();
        }
    }

    private static string TryStartThread()
    {
        try
        {
            var thread = new Thread(static () => { });
            thread.Start();
            thread.Join();
            return "started";
        }
        catch (OutOfMemoryException ex)
        {
            return $"failed: {ex.Message}";
        }
    }

    /// <summary>Opens <c>/dev/null</c> until the limit is met.</summary>
    private static void Fill(List<SafeFileHandle> filler)
    {
        int fd;
        while ((fd = OpenNull()) >= 0)
        {
            filler.Add(new SafeFileHandle(fd, ownsHandle: true));
        }
    }

    /// <summary>Closes <paramref name="count"/> of the filler's descriptors.</summary>
    private static void Free(List<SafeFileHandle> filler, int count)
    {
        for (var i = 0; i < count && filler.Count > 0; i++)
        {
            filler[^1].Dispose();
            filler.RemoveAt(filler.Count - 1);
        }
    }

    private static bool CanOpen(int count)
    {
        var opened = new List<SafeFileHandle>();
        int fd;
        while (opened.Count < count && (fd = OpenNull()) >= 0)
        {
            opened.Add(new SafeFileHandle(fd, ownsHandle: true));
        }

        var all = opened.Count == count;
        opened.ForEach(handle => handle.Dispose());
        return all;
    }

    private static int OpenNull() => Interop.Processes.Open("/dev/null", Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0);

    private static void Report(string key, string value)
    {
        Console.Out.WriteLine($"{key}={value}");
        Console.Out.Flush();
    }
}
