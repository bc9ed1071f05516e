using System.Runtime.Versioning;
using GitProc.Locking;

namespace GitProc.TestChild;

/// <summary>
/// <c>hold-lock PATH</c>: takes the exclusive lock on the file PATH, prints <c>locked</c>, and holds it until standard
/// input ends (or the process is killed), so a test can see another process's lock and what its death does to it.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class HoldLockCommand
{
    public static int Run(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: GitProc.TestChild hold-lock <path>");
            return 2;
        }

        using var held = ExclusiveLock.TryAcquireFile(args[0], out var holder);
        if (held is null)
        {
            Console.Out.WriteLine($"held by {holder}");
            return 1;
        }

        Console.Out.WriteLine("locked");
        Console.Out.Flush();
        _ = Console.In.ReadToEnd();
        return 0;
    }
}
