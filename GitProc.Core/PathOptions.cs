namespace GitProc;

/// <summary>
/// Where GitProc keeps its repository, state, socket and logs: the top-level keys of <see cref="GitProcOptions"/> of the
/// same names (<c>GitProc:RepositoryPath</c>, …), from which this is derived, so a component that needs one path takes
/// these rather than every option. Defaults depend on whether the process is privileged: root gets the system paths,
/// everyone else the XDG ones (<see cref="DefaultPaths"/>).
/// </summary>
public sealed class PathOptions
{
    /// <summary>
    /// The Git repository of unit files. Default <c>/etc/gitproc/services</c> as root, else
    /// <c>$XDG_DATA_HOME/gitproc/services</c>.
    /// </summary>
    public string RepositoryPath { get; set; } = DefaultPaths.Repository;

    /// <summary>
    /// The state file; the delivery history is kept beside it. Default <c>/var/lib/gitproc/state.json</c> as root, else
    /// <c>$XDG_STATE_HOME/gitproc/state.json</c>.
    /// </summary>
    public string StatePath { get; set; } = DefaultPaths.State;

    /// <summary>
    /// The daemon's Unix socket; services' notification sockets are kept beside it. Default <c>/run/gitproc.sock</c> as
    /// root, else <c>$XDG_RUNTIME_DIR/gitproc.sock</c>.
    /// </summary>
    public string SocketPath { get; set; } = DefaultPaths.Socket;

    /// <summary>
    /// The directory of service logs (<c>NAME.log</c>). Default <c>/var/log/gitproc</c> as root, else
    /// <c>$XDG_STATE_HOME/gitproc/logs</c>.
    /// </summary>
    public string LogDirectory { get; set; } = DefaultPaths.LogDirectory;
}
