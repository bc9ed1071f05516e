namespace GitProc.Validation;

/// <summary>
/// Checks a set of unit files exactly as the daemon does before it applies a commit, and as
/// <c>gitproc check</c> does: every file parsed with the configured <see cref="UnitFiles.UnitFileOptions"/> (an error in
/// one file does not hide another's), service names checked, then the set's dependencies (a <c>Requires=</c> on a
/// missing service, cycles; <c>After=</c>/<c>Wants=</c> on what is not a service are warnings). Needs no daemon.
/// </summary>
/// <remarks>Findings are data: only a failure to read the repository throws.</remarks>
public interface IUnitCheck
{
    /// <summary>Checks the given files as one set, as if they were the unit files of one commit.</summary>
    /// <param name="files">The files, in the order to report them.</param>
    /// <returns>The units that parsed and every error and warning.</returns>
    UnitCheckResult Check(IEnumerable<UnitSource> files);

    /// <summary>
    /// Checks unit files on disk as one set: each path is a file (checked whatever its name, so a misnamed file is
    /// reported) or a directory, whose <c>*.service</c> files are checked (not those of its subdirectories, and not
    /// symbolic links, which the daemon ignores in a commit too). A path that does not exist or cannot be read is an
    /// error of the result.
    /// </summary>
    /// <param name="paths">Files and directories, shown in diagnostics as given.</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <returns>The units that parsed and every error and warning.</returns>
    Task<UnitCheckResult> CheckPathsAsync(IEnumerable<string> paths, CancellationToken cancellationToken = default);

    /// <summary>Checks the unit files of a commit of the repository (read from Git, never from the working tree).</summary>
    /// <param name="commit">A commit, as <see cref="Git.IGitIntegration.GetCommitAsync"/> accepts.</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <returns>The units that parsed and every error and warning.</returns>
    /// <exception cref="Git.GitException">No such commit, or the repository cannot be read.</exception>
    Task<UnitCheckResult> CheckCommitAsync(string commit, CancellationToken cancellationToken = default);
}
