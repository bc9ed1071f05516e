namespace GitProc.Processes;

/// <summary>What a spawn executes, resolved and checked: the launch planner's answer, the spawn's only input.</summary>
/// <param name="Program">The file posix_spawn executes: the command itself, or the shim (<c>/bin/sh</c>, <c>setpriv</c>).</param>
/// <param name="Arguments">Its argv, argv[0] first.</param>
/// <param name="Environment">The process's whole environment.</param>
/// <param name="WorkingDirectory">Its working directory (it exists).</param>
/// <param name="Executable">The command's program as resolved (shown in logs and errors).</param>
internal sealed record LaunchPlan(
    string Program,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory,
    string Executable);
