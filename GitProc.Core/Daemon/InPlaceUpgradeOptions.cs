namespace GitProc.Daemon;

/// <summary>
/// How the daemon upgrades in place (SIGHUP, or the IPC command <c>reexec</c>): it re-executes this program, keeping
/// every service process, output pipe and exit status, its IPC socket and its locks.
/// </summary>
public sealed class InPlaceUpgradeOptions
{
    /// <summary>
    /// The program to execute: normally this process's own executable (a new version installed at the same path is
    /// what runs next). Default <see langword="null"/>: in-place upgrades are off, SIGHUP is ignored with a warning and
    /// <c>reexec</c> is refused, since whether re-executing itself is right is the application's call; <c>gitproc
    /// daemon</c> sets it.
    /// </summary>
    public string? Executable { get; set; }

    /// <summary>Its arguments, argv[0] first, as the new image should get them (normally this process's own). Default empty.</summary>
    public IList<string> Arguments { get; } = [];
}
