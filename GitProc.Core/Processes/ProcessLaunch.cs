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
    /// <c>cgroup.procs</c> files the process joins before it executes the command, so nothing it forks escapes
    /// its cgroups. Empty for none.
    /// </summary>
    public IReadOnlyList<string> CgroupProcsFiles { get; init; } = [];

    /// <summary>The working directory when the unit sets none (the repository's directory of unit files).</summary>
    public string? DefaultWorkingDirectory { get; init; }
}
