namespace GitProc.UnitFiles;

/// <summary><c>[Service] Type=</c>.</summary>
public enum ServiceType
{
    /// <summary>The service is running as soon as its process has been started.</summary>
    Simple,

    /// <summary>The service is running once its executable has been executed successfully.</summary>
    Exec,

    /// <summary>The service runs its commands to completion; success leaves it stopped, not failed.</summary>
    Oneshot,

    /// <summary>
    /// The service is running once its main process has sent <c>READY=1</c> to its notification socket
    /// (<c>NOTIFY_SOCKET</c>, sd_notify(3)); no <c>READY=1</c> within <c>TimeoutStartSec=</c> fails the start.
    /// </summary>
    Notify,

    /// <summary>
    /// The started process forks the daemon and exits: the service is running once it has exited with code 0 and the
    /// daemon's main PID is known, from <see cref="UnitFile.PidFile"/> or guessed from the service's cgroup
    /// (<see cref="UnitFile.GuessMainPid"/>).
    /// </summary>
    Forking,
}
