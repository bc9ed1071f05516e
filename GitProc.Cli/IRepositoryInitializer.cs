namespace GitProc.Cli;

/// <summary>Creates the Git repository of unit files for <c>gitproc init</c>.</summary>
internal interface IRepositoryInitializer
{
    /// <summary>Whether a Git repository (bare or not) exists at <paramref name="path"/>.</summary>
    bool Exists(string path);

    /// <summary>Creates an empty repository at <paramref name="path"/> whose unborn HEAD is <paramref name="branch"/>.</summary>
    void Initialize(string path, string branch);
}
