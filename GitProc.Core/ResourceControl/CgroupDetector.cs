using System.Runtime.Versioning;

namespace GitProc.ResourceControl;

/// <summary>
/// Finds which cgroup hierarchy can enforce limits and prepares the root cgroup in it. cgroup v2 is chosen when the
/// unified hierarchy is mounted at the mount point itself with the memory, cpu and pids controllers; otherwise
/// cgroup v1 when the memory, cpu and pids hierarchies are mounted under it (a hybrid host's <c>unified</c>
/// mount, which carries no controllers, is not used). Anything that fails yields
/// <see cref="ResourceControlBackend.None"/> with the reason, never an exception: services must run regardless.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class CgroupDetector
{
    private const string NotEnforced = "limits are not enforced";

    private static readonly string[] RequiredControllers = ["memory", "cpu", "pids"];

    public static CgroupLayout Detect(ResourceControlOptions options)
    {
        try
        {
            return DetectCore(options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return CgroupLayout.NotEnforced($"cannot read the cgroup file system at {options.CgroupMountPoint} ({ex.Message}): {NotEnforced}");
        }
    }

    private static CgroupLayout DetectCore(ResourceControlOptions options)
    {
        if (!options.Enabled)
        {
            return CgroupLayout.NotEnforced($"resource control is disabled (ResourceControl.Enabled is false): {NotEnforced}");
        }

        var mount = options.CgroupMountPoint;
        if (!Directory.Exists(mount))
        {
            return CgroupLayout.NotEnforced($"no cgroup file system at {mount}: {NotEnforced}");
        }

        string v2Finding;
        var controllersFile = Path.Combine(mount, "cgroup.controllers");
        if (File.Exists(controllersFile))
        {
            var available = CgroupFiles.ReadNameList(controllersFile);
            var missing = RequiredControllers.Where(c => !available.Contains(c)).ToList();
            if (missing.Count == 0)
            {
                return SetUpV2(mount, options.CgroupRoot);
            }

            v2Finding = $"the cgroup v2 hierarchy at {mount} lacks the {string.Join(", ", missing)} controller(s)";
        }
        else
        {
            v2Finding = $"no cgroup v2 hierarchy is mounted at {mount}";
        }

        var memory = FindHierarchy(mount, "memory");
        var cpu = FindHierarchy(mount, "cpu", "cpu,cpuacct", "cpuacct,cpu");
        var cpuAcct = FindHierarchy(mount, "cpuacct", "cpu,cpuacct", "cpuacct,cpu");
        var pids = FindHierarchy(mount, "pids");
        var absent = new List<string>();
        if (memory is null)
        {
            absent.Add("memory");
        }

        if (cpu is null)
        {
            absent.Add("cpu");
        }

        if (pids is null)
        {
            absent.Add("pids");
        }

        if (absent.Count > 0)
        {
            return CgroupLayout.NotEnforced(
                $"{v2Finding} and no cgroup v1 {string.Join(", ", absent)} hierarchy is mounted under it: {NotEnforced}");
        }

        // cpuacct usually shares the cpu hierarchy (cpu -> cpu,cpuacct); joining it twice would be the same write.
        if (cpuAcct is not null && SameDirectory(cpuAcct, cpu!))
        {
            cpuAcct = null;
        }

        return SetUpV1(options.CgroupRoot, memory!, cpu!, cpuAcct, pids!);
    }

    private static CgroupLayout SetUpV2(string mount, string root)
    {
        var created = new List<string>();
        try
        {
            // Controllers reach a cgroup only through every ancestor's subtree_control. The kernel refuses that for a
            // cgroup holding processes (the "no internal processes" rule), which is why the root holds none and
            // services live in leaves below it.
            var directory = mount;
            foreach (var component in SplitRoot(root))
            {
                EnableControllers(directory);
                directory = Path.Combine(directory, component);
                CreateDirectory(directory, created);
            }

            EnableControllers(directory);

            // A real child cgroup lists what it received; a fake cgroupfs (tests) has no such file.
            var controllersFile = Path.Combine(directory, "cgroup.controllers");
            if (File.Exists(controllersFile))
            {
                var available = CgroupFiles.ReadNameList(controllersFile);
                var missing = RequiredControllers.Where(c => !available.Contains(c)).ToList();
                if (missing.Count > 0)
                {
                    RemoveCreated(created);
                    return CgroupLayout.NotEnforced(
                        $"the cgroup {directory} did not receive the {string.Join(", ", missing)} controller(s): {NotEnforced}");
                }
            }

            return new CgroupLayout(new ResourceControlStatus(ResourceControlBackend.V2, null, [directory]))
            {
                Unified = directory,
                CreatedDirectories = created,
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ResourceControlException)
        {
            RemoveCreated(created);
            return CgroupLayout.NotEnforced(NotWritable(ex));
        }
    }

    private static CgroupLayout SetUpV1(string root, string memory, string cpu, string? cpuAcct, string pids)
    {
        var created = new List<string>();
        try
        {
            string Create(string hierarchy)
            {
                var directory = hierarchy;
                foreach (var component in SplitRoot(root))
                {
                    directory = Path.Combine(directory, component);
                    CreateDirectory(directory, created);
                }

                return directory;
            }

            var layout = new CgroupLayout(new ResourceControlStatus(ResourceControlBackend.V1, null, []))
            {
                Memory = Create(memory),
                Cpu = Create(cpu),
                CpuAcct = cpuAcct is null ? null : Create(cpuAcct),
                Pids = Create(pids),
                CreatedDirectories = created,
            };
            string[] roots = layout.CpuAcct is null
                ? [layout.Memory, layout.Cpu, layout.Pids]
                : [layout.Memory, layout.Cpu, layout.CpuAcct, layout.Pids];
            return layout with { Status = layout.Status with { RootDirectories = roots } };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            RemoveCreated(created);
            return CgroupLayout.NotEnforced(NotWritable(ex));
        }
    }

    private static string NotWritable(Exception ex) =>
        ex is UnauthorizedAccessException && !Environment.IsPrivilegedProcess
            ? $"cgroups not writable (not root): {NotEnforced}"
            : $"cgroups not writable ({ex.Message}): {NotEnforced}";

    private static void EnableControllers(string directory)
    {
        var file = Path.Combine(directory, "cgroup.subtree_control");
        var enabled = CgroupFiles.ReadNameList(file);
        if (RequiredControllers.All(enabled.Contains))
        {
            return;
        }

        // One write enabling all three; the kernel applies a write as a whole or not at all.
        CgroupFiles.Write(file, "+memory +cpu +pids", "the memory, cpu and pids controllers for child cgroups", null);
    }

    private static void CreateDirectory(string directory, List<string> created)
    {
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory);
            created.Add(directory);
        }
    }

    /// <summary>Removes directories made by a detection (deepest first); a directory still in use is left.</summary>
    internal static void RemoveCreated(IReadOnlyList<string> created)
    {
        for (var i = created.Count - 1; i >= 0; i--)
        {
            try
            {
                ServiceCgroup.RemoveCgroupDirectory(created[i]);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Still holds service cgroups (or processes): it stays, as systemd leaves a slice in use.
            }
        }
    }

    private static IEnumerable<string> SplitRoot(string root) =>
        root.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static string? FindHierarchy(string mount, params string[] names) =>
        names.Select(name => Path.Combine(mount, name)).FirstOrDefault(Directory.Exists);

    private static bool SameDirectory(string a, string b)
    {
        static string Resolve(string path) => new DirectoryInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);

        return string.Equals(Resolve(a), Resolve(b), StringComparison.Ordinal);
    }
}
