namespace EmbeddedGitOps;

/// <summary>
/// Where the embedded GitProc keeps everything: all under one directory the application is given, so it needs no
/// root and never meets the system paths a <c>gitproc</c> daemon uses (<c>/etc/gitproc</c>, <c>/var/lib/gitproc</c>,
/// <c>/run/gitproc.sock</c>), which are GitProc's defaults when the process runs as root.
/// </summary>
/// <param name="Directory">The application's directory (absolute).</param>
internal sealed record SampleLayout(string Directory)
{
    /// <summary>The Git repository of unit files; the application creates it when missing.</summary>
    public string UnitRepository => Path.Combine(Directory, "units");

    /// <summary>The state file (the delivery history is kept beside it).</summary>
    public string StatePath => Path.Combine(Directory, "state", "state.json");

    /// <summary>The services' log files.</summary>
    public string LogDirectory => Path.Combine(Directory, "logs");

    /// <summary>The control socket, for the <c>gitproc</c> CLI (<c>gitproc --socket PATH status</c>).</summary>
    public string SocketPath => Path.Combine(Directory, "gitproc.sock");

    /// <summary>The layout for <paramref name="directory"/>, made absolute.</summary>
    public static SampleLayout For(string directory) => new(Path.GetFullPath(directory));
}
