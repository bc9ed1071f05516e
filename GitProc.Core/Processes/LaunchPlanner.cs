using System.Runtime.Versioning;
using GitProc.UnitFiles;

namespace GitProc.Processes;

/// <summary>
/// Plans a launch without starting anything: from a unit's command, what the supervisor adds and the daemon's own
/// identity (<see cref="LaunchHost"/>), the immutable <see cref="LaunchPlan"/> a spawn executes: argv with specifiers
/// and variables expanded, the clean environment systemd would build, the working directory, the program resolved
/// through PATH, and the shim that joins cgroups, sets the open-file limit and switches user (see
/// <see cref="ProcessManager"/> for why a shim). It reads the user database and checks files exist and are executable,
/// so each way a start can fail gets a clear error before any process exists.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class LaunchPlanner
{
    internal const string Shell = "/bin/sh";
    internal const string SetPriv = "/usr/bin/setpriv";

    /// <summary>
    /// The exec shim. Arguments: the number N of cgroup files to join, the N files, then the command to exec.
    /// Writing <c>0</c> moves the writer itself (see <see cref="GitProc.ResourceControl.IServiceCgroup.JoinFiles"/>),
    /// and the shell's pid stays the command's pid across exec. 219 is systemd's EXIT_CGROUP.
    /// </summary>
    internal const string ShimScript = "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo 0 > \"$1\" || exit 219; shift; n=$((n-1)); done; exec \"$@\"";

    /// <summary>The command's program as written, for errors about it.</summary>
    internal static string ExecutableOf(ProcessLaunch launch) =>
        launch.Command.Arguments.Count > 0 ? launch.Command.Arguments[0] : "(empty command)";

    /// <summary>Everything a spawn needs, resolved and checked, with a clear error for each way it can fail.</summary>
    /// <param name="launch">The unit and command, and what the supervisor adds (cgroups, variables).</param>
    /// <param name="fromFiles">The variables the unit's <c>EnvironmentFile=</c>s set, read beforehand; null for none.</param>
    /// <param name="host">The daemon: what services inherit, who it runs as, what it may change.</param>
    /// <exception cref="ProcessStartException">The launch cannot happen; the message says why and what to change.</exception>
    public static LaunchPlan Plan(ProcessLaunch launch, IReadOnlyDictionary<string, string>? fromFiles, LaunchHost host)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(host);
        var unit = launch.Unit;
        var name = unit.Name;
        var written = ExecutableOf(launch);
        if (launch.Command.Arguments.Count == 0)
        {
            throw new ProcessStartException(name, written, "the command is empty");
        }

        var arg0 = CommandExpansion.ExpandSpecifiers(launch.Command.Arguments[0], name);

        // User and group.
        var account = host.Account;
        UserAccount? switchTo = null;
        if (unit.User is { Length: > 0 } userName)
        {
            userName = CommandExpansion.ExpandSpecifiers(userName, name);
            account = UserAccount.Find(userName)
                ?? throw new ProcessStartException(name, arg0, $"user {userName} does not exist (User={userName})");
            if (account.Uid != host.Uid)
            {
                switchTo = account;
            }
        }

        uint? switchGroup = null;
        if (unit.Group is { Length: > 0 } groupName)
        {
            groupName = CommandExpansion.ExpandSpecifiers(groupName, name);
            var gid = UserAccount.FindGroup(groupName)
                ?? throw new ProcessStartException(name, arg0, $"group {groupName} does not exist (Group={groupName})");
            if (gid != (switchTo?.Gid ?? host.Gid) || switchTo is not null)
            {
                switchGroup = gid;
            }
        }
        else if (switchTo is not null)
        {
            switchGroup = switchTo.Gid;
        }

        if ((switchTo is not null || (switchGroup is { } g && g != host.Gid)) && !host.IsPrivileged)
        {
            var what = switchTo is not null ? $"user {unit.User}" : $"group {unit.Group}";
            throw new ProcessStartException(name, arg0, $"switching to {what} needs root; run the daemon as root or remove User=/Group= from {unit.FileName}");
        }

        // Environment: a clean one, as systemd builds it; EnvironmentFile= wins over Environment= (systemd.exec(5): a
        // unit's Environment="OPTS=" default is what /etc/default/NAME overrides).
        var environment = new Dictionary<string, string>(host.InheritedEnvironment.Count + 4 + (fromFiles?.Count ?? 0) + unit.Environment.Count, StringComparer.Ordinal);
        foreach (var (key, value) in host.InheritedEnvironment)
        {
            environment[key] = value;
        }

        environment["HOME"] = account.Home;
        environment["USER"] = account.Name;
        environment["LOGNAME"] = account.Name;
        environment["SHELL"] = account.Shell;
        foreach (var (key, value) in unit.Environment)
        {
            environment[key] = CommandExpansion.ExpandSpecifiers(value, name);
        }

        if (fromFiles is not null)
        {
            foreach (var (key, value) in fromFiles)
            {
                environment[key] = value;
            }
        }

        foreach (var (key, value) in launch.Environment)
        {
            environment[key] = value;
        }

        var workingDirectory = ResolveWorkingDirectory(launch, account, arg0);

        // argv: specifiers everywhere, variables in the arguments (systemd does not expand the program itself).
        var argv = new List<string>(launch.Command.Arguments.Count + 8) { arg0 };
        for (var i = 1; i < launch.Command.Arguments.Count; i++)
        {
            CommandExpansion.ExpandVariables(CommandExpansion.ExpandSpecifiers(launch.Command.Arguments[i], name), environment, argv);
        }

        var executable = ResolveExecutable(name, arg0, environment["PATH"], workingDirectory);
        var limitCommands = LimitCommands(unit, host);

        // The pid is only known once the process exists: the shim's $$, which stays the command's pid across exec.
        foreach (var pidVariable in launch.PidVariables)
        {
            limitCommands += $"{pidVariable}=$$; export {pidVariable}; ";
        }

        var joinFiles = launch.CgroupJoinFiles.Count > 0 ? launch.CgroupJoinFiles : launch.CgroupProcsFiles;
        if (joinFiles.Count == 0 && switchGroup is null && limitCommands.Length == 0)
        {
            return new LaunchPlan(executable, argv, environment, workingDirectory, executable);
        }

        // The shim: [sh -c [LIMITS]SCRIPT gitproc-exec N files...] [setpriv options --] executable args...
        var wrapped = new List<string>(argv.Count + joinFiles.Count + 10);
        string program;
        if (joinFiles.Count > 0 || limitCommands.Length > 0)
        {
            program = Shell;
            wrapped.AddRange([Shell, "-c", limitCommands + ShimScript, "gitproc-exec", joinFiles.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            wrapped.AddRange(joinFiles);
        }
        else
        {
            program = SetPriv;
        }

        if (switchGroup is { } groupId)
        {
            if (!File.Exists(SetPriv))
            {
                throw new ProcessStartException(name, arg0, $"switching user or group needs {SetPriv} (util-linux), which is missing");
            }

            wrapped.Add(SetPriv);
            if (switchTo is not null)
            {
                wrapped.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--reuid={switchTo.Uid}"));
            }

            wrapped.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--regid={groupId}"));

            // initgroups() needs a passwd entry; a bare numeric user, or a group switch alone, gets no supplementary groups.
            wrapped.Add(switchTo is { InDatabase: true } ? "--init-groups" : "--clear-groups");
            wrapped.Add("--");
        }

        // The shim execs by path, so the program's argv[0] is the resolved path rather than the word as written.
        wrapped.Add(executable);
        for (var i = 1; i < argv.Count; i++)
        {
            wrapped.Add(argv[i]);
        }

        return new LaunchPlan(program, wrapped, environment, workingDirectory, executable);
    }

    /// <summary>
    /// The shim's <c>ulimit</c> commands giving the service its open-file limit (its unit's <c>LimitNOFILE=</c>, else the
    /// daemon's original one); empty when that is the daemon's current limit, so such a service needs no shim.
    /// </summary>
    private static string LimitCommands(UnitFile unit, LaunchHost host)
    {
        var wanted = FileDescriptorLimit.ForService(unit.LimitNOFILE, host.OpenFileLimit, host.MayRaiseHardLimit);
        return FileDescriptorLimit.ShellCommands(wanted, host.OpenFileLimit);
    }

    private static string ResolveWorkingDirectory(ProcessLaunch launch, UserAccount account, string arg0)
    {
        var unit = launch.Unit;
        var fallback = launch.DefaultWorkingDirectory ?? Environment.CurrentDirectory;
        if (unit.WorkingDirectory is not { Length: > 0 } configured)
        {
            return Directory.Exists(fallback) ? fallback : throw new ProcessStartException(unit.Name, arg0, $"working directory {fallback} does not exist");
        }

        configured = CommandExpansion.ExpandSpecifiers(configured, unit.Name);

        // systemd: a leading '-' makes a missing directory acceptable; '~' is the user's home.
        var optional = configured.StartsWith('-');
        if (optional)
        {
            configured = configured[1..];
        }

        if (configured == "~")
        {
            configured = account.Home;
        }

        var path = Path.GetFullPath(configured, fallback);
        if (Directory.Exists(path))
        {
            return path;
        }

        if (optional)
        {
            return Directory.Exists(fallback) ? fallback : "/";
        }

        throw new ProcessStartException(unit.Name, arg0, $"working directory {path} does not exist (WorkingDirectory= in {unit.FileName})");
    }

    /// <summary>
    /// Resolves the program as systemd does: an absolute path as is, a bare name through the service's PATH. Checked
    /// here (and not only by exec) because behind the shim an exec failure would only show as exit code 127.
    /// </summary>
    private static string ResolveExecutable(string service, string arg0, string searchPath, string workingDirectory)
    {
        if (arg0.Contains('/', StringComparison.Ordinal))
        {
            var path = Path.GetFullPath(arg0, workingDirectory);
            var problem = CheckExecutable(path);
            return problem is null ? path : throw new ProcessStartException(service, path, problem);
        }

        foreach (var directory in searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Path.IsPathRooted(directory))
            {
                continue;
            }

            var candidate = Path.Join(directory, arg0);
            if (CheckExecutable(candidate) is null)
            {
                return candidate;
            }
        }

        throw new ProcessStartException(service, arg0, $"no such executable in PATH ({searchPath})");
    }

    private static string? CheckExecutable(string path)
    {
        if (Directory.Exists(path))
        {
            return "is a directory, not an executable";
        }

        if (!File.Exists(path))
        {
            return "no such file";
        }

        return Interop.Processes.Access(path, Interop.Processes.X_OK) == 0 ? null : "is not executable (permission denied)";
    }
}
