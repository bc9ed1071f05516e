using GitProc.Processes;

namespace GitProc.Supervision;

/// <summary>
/// What a <see cref="LaunchSequence"/> tells its service as a launch goes on; the service's controller decides what each
/// means for its state. <c>generation</c> is the launch's: a report about a launch a command has since taken over is ignored.
/// </summary>
internal interface ILaunchObserver
{
    /// <summary>The main process runs but the start is not complete (waiting for READY=1, or for the forked daemon).</summary>
    void Starting(int generation, IServiceProcess process);

    /// <summary>The start completed: the main process runs (null: a oneshot's commands are about to run).</summary>
    void Started(int generation, IServiceProcess? process, long launchBegan);

    /// <summary>Why the launch failed.</summary>
    void Failed(int generation, string reason);

    /// <summary>A stop asked for while the start waited took the launch over.</summary>
    void Aborted(string reason);

    /// <summary>A command could not start for the daemon's own shortage of descriptors or memory: retried, not counted.</summary>
    void ShortOfResources(string message);

    /// <summary>A command of the service failed (any launch, whatever its generation).</summary>
    void CommandFailed(string reason);

    /// <summary>What the service said through its notification socket changed its status.</summary>
    void Changed();
}
