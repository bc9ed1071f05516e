using System.Diagnostics;
using System.Globalization;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>
/// A small tmpfs mounted on a directory for a test that needs a really full file system (root only). Disposing unmounts
/// it (lazily if something still holds it open), so the mount never outlives the test.
/// </summary>
internal sealed class TinyTmpfs : IDisposable
{
    private bool _mounted;

    private TinyTmpfs(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>
    /// Mounts a tmpfs of <paramref name="size"/> (mount's syntax: <c>64k</c>) on <paramref name="path"/>, creating it; ignores
    /// the test where that cannot be done. <paramref name="inodes"/> limits its files (the root directory takes one).
    /// </summary>
    public static TinyTmpfs Mount(string path, string size, int? inodes = null)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: mounts a small tmpfs to fill up");
        }

        Directory.CreateDirectory(path);
        var (exit, error) = Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0700" + (inodes is { } n ? string.Create(CultureInfo.InvariantCulture, $",nr_inodes={n}") : ""), "gitproc-test-full", path);
        if (exit != 0)
        {
            Assert.Ignore($"cannot mount a tmpfs here: {error.Trim()}");
        }

        return new TinyTmpfs(path) { _mounted = true };
    }

    /// <summary>Writes a file of <paramref name="bytes"/> zero bytes into the file system; returns its path.</summary>
    public string Fill(int bytes)
    {
        var path = System.IO.Path.Combine(Path, "filler-" + bytes.ToString(CultureInfo.InvariantCulture));
        File.WriteAllBytes(path, new byte[bytes]);
        return path;
    }

    /// <summary>Fills what is left of the file system, byte by the kilobyte; returns the filler's path.</summary>
    public string FillUp()
    {
        var path = System.IO.Path.Combine(Path, "filler-rest");
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[1024];
        try
        {
            while (true)
            {
                stream.Write(block);
            }
        }
        catch (IOException)
        {
            // Full.
        }

        try
        {
            stream.Write(block.AsSpan(0, 1));
        }
        catch (IOException)
        {
        }

        return path;
    }

    public void Dispose()
    {
        if (!_mounted)
        {
            return;
        }

        if (Run("umount", Path).Exit != 0)
        {
            Run("umount", "-l", Path);
        }

        _mounted = false;
    }

    private static (int Exit, string Error) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            Assert.Fail($"{program} did not finish");
        }

        return (process.ExitCode, error);
    }
}
