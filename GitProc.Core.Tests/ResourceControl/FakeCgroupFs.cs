using System.Runtime.Versioning;
using GitProc.ResourceControl;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.ResourceControl;

/// <summary>A temporary directory laid out like a cgroup mount, deleted on disposal.</summary>
[SupportedOSPlatform("linux")]
internal sealed class FakeCgroupFs : IDisposable
{
    public FakeCgroupFs()
    {
        Mount = Directory.CreateTempSubdirectory("gitproc-fake-cgroupfs-").FullName;
    }

    public string Mount { get; }

    /// <summary>A unified hierarchy, as the kernel shows it at the root, with <paramref name="controllers"/> available.</summary>
    public static FakeCgroupFs V2(string controllers = "cpuset cpu io memory pids")
    {
        var fs = new FakeCgroupFs();
        fs.Write("cgroup.controllers", controllers + "\n");
        fs.Write("cgroup.subtree_control", string.Empty);
        fs.Write("cgroup.procs", string.Empty);
        return fs;
    }

    /// <summary>v1 hierarchies as most hosts mount them: <c>cpu</c> and <c>cpuacct</c> are links to <c>cpu,cpuacct</c>.</summary>
    public static FakeCgroupFs V1()
    {
        var fs = new FakeCgroupFs();
        foreach (var hierarchy in (string[])["memory", "cpu,cpuacct", "pids"])
        {
            fs.Write(Path.Combine(hierarchy, "cgroup.procs"), string.Empty);
        }

        Directory.CreateSymbolicLink(fs.PathOf("cpu"), "cpu,cpuacct");
        Directory.CreateSymbolicLink(fs.PathOf("cpuacct"), "cpu,cpuacct");
        return fs;
    }

    public string PathOf(string relative) => Path.Combine(Mount, relative);

    public void Write(string relative, string content)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>The names of the files in a directory of the fake, sorted.</summary>
    public IReadOnlyList<string> FilesIn(string relative) =>
        Directory.EnumerateFiles(PathOf(relative)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    public ResourceController CreateController(
        FakeLogger<ResourceController>? logger = null,
        TimeProvider? timeProvider = null,
        string root = "gitproc",
        bool enabled = true) =>
        new(
            Options.Create(new GitProcOptions
            {
                ResourceControl = { CgroupMountPoint = Mount, CgroupRoot = root, Enabled = enabled },
            }),
            timeProvider ?? TimeProvider.System,
            logger ?? new FakeLogger<ResourceController>());

    public void Dispose() => Directory.Delete(Mount, recursive: true);
}
