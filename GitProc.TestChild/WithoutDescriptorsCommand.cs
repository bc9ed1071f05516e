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
        while (true)
        {
            var fd = Interop.Locking.Open("/dev/null", Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0);
            if (fd < 0)
            {
                break;
            }

            filler.Add(new SafeFileHandle(fd, ownsHandle: true));
        }

        string start;
        try
        {
            var process = await manager.StartAsync(new ProcessLaunch(unit, unit.ExecStartCommands[0]) { DefaultWorkingDirectory = args[0] });
            await process.StopAsync(15, TimeSpan.FromSeconds(5));
            start = "started";
        }
        catch (ProcessStartException ex)
        {
            start = $"{ex.IsResourceShortage} {ex.Message}";
        }

        var released = DescriptorReserve.IsReleased;
        var heldAgainWhileShort = DescriptorReserve.EnsureHeld();

        // With the reserve's descriptors handed back, the rest of the process can work; take them again to be short.
        var refill = new List<SafeFileHandle>();
        int fdAgain;
        while ((fdAgain = Interop.Locking.Open("/dev/null", Interop.Processes.O_RDONLY | Interop.Processes.O_CLOEXEC, 0)) >= 0)
        {
            refill.Add(new SafeFileHandle(fdAgain, ownsHandle: true));
        }

        string read;
        try
        {
            read = $"value {await CgroupFiles.ReadNumberAsync(file, CancellationToken.None)}";
        }
        catch (ResourceControlException ex)
        {
            read = $"{ResourceShortage.Is(ex)} {ex.Message}";
        }

        var statRead = ProcStat.TryRead(Environment.ProcessId, out _, out var statError);
        var members = ProcStat.FindLiveMembers(Environment.ProcessId);

        foreach (var handle in refill.Concat(filler))
        {
            handle.Dispose();
        }

        var heldAgain = DescriptorReserve.EnsureHeld();
        DescriptorReserve.Stop();

        Report("start", start);
        Report("reserve-released", released.ToString());
        Report("reserve-taken-while-short", heldAgainWhileShort.ToString());
        Report("cgroup-read", read);
        Report("proc-stat", $"{statRead} {statError}");
        Report("members", members.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Report("reserve-taken-after", heldAgain.ToString());
        return 0;
    }

    private static void Report(string key, string value)
    {
        Console.Out.WriteLine($"{key}={value}");
        Console.Out.Flush();
    }
}
