using GitProc.Logs;
using GitProc.UnitFiles;

namespace GitProc.Processes;

/// <summary>What to start: one command of a unit, and where its output and process go.</summary>
/// <param name="Unit">The unit (environment, user, working directory come from it).</param>
/// <param name="Command">The command to execute.</param>
public sealed record ProcessLaunch(UnitFile Unit, UnitCommand Command)
{
    /// <summary>
    /// Receives stdout and stderr (one pipe for both, so their order is kept); <see langword="null"/> sends them to
    /// <c>/dev/null</c>. The process manager owns the writer from the call on: it disposes it when the output ends
    /// (<see cref="IServiceProcess.OutputCompleted"/>) or when the start fails.
    /// </summary>
    public IServiceLogWriter? Output { get; init; }

    /// <summary>
    /// The <c>cgroup.procs</c> files of the cgroups the process belongs in: a stop signals every process they list,
    /// and, unless <see cref="CgroupJoinFiles"/> says otherwise, the process joins them before it executes the
    /// command, so nothing it forks escapes. Empty for none.
    /// </summary>
    public IReadOnlyList<string> CgroupProcsFiles { get; init; } = [];

    /// <summary>
    /// The files the process writes <c>0</c> into to join its cgroups before it executes the command
    /// (<see cref="GitProc.ResourceControl.IServiceCgroup.JoinFiles"/>); empty to join through
    /// <see cref="CgroupProcsFiles"/>.
    /// </summary>
    public IReadOnlyList<string> CgroupJoinFiles { get; init; } = [];

    /// <summary>
    /// Variables the supervisor gives the process on top of the unit's, winning over <c>Environment=</c> and
    /// <c>EnvironmentFile=</c> and usable as <c>$NAME</c> in the command's arguments: <c>NOTIFY_SOCKET</c> and
    /// <c>WATCHDOG_USEC</c> for every process of a service that has them; <c>$MAINPID</c> for ExecReload/ExecStop;
    /// <c>$SERVICE_RESULT</c>, <c>$EXIT_CODE</c>, <c>$EXIT_STATUS</c> for ExecStopPost, as systemd sets them. Empty for none.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Variables set to the process's own pid before it executes the command (<c>SYSTEMD_EXEC_PID</c>,
    /// <c>WATCHDOG_PID</c>), so a program can tell that variables meant for the main process are its own. Empty for none.
    /// </summary>
    public IReadOnlyList<string> PidVariables { get; init; } = [];

    /// <summary>This launch with <paramref name="variables"/> added to <see cref="Environment"/> (theirs win).</summary>
    internal ProcessLaunch WithEnvironment(IReadOnlyDictionary<string, string> variables)
    {
        if (variables.Count == 0)
        {
            return this;
        }

        var merged = new Dictionary<string, string>(Environment, StringComparer.Ordinal);
        foreach (var (key, value) in variables)
        {
            merged[key] = value;
        }

        return this with { Environment = merged };
    }

    /// <summary>The working directory when the unit sets none (the repository's directory of unit files).</summary>
    public string? DefaultWorkingDirectory { get; init; }
}
