namespace GitProc.Daemon;

/// <summary>
/// The daemon's in-place upgrade, like <c>systemctl daemon-reexec</c>: the supervisor hands its services over (see
/// <see cref="Supervision.ISupervisor.HandOverAsync"/>), the IPC server stops accepting but keeps its socket, and the
/// process re-executes <see cref="InPlaceUpgradeOptions.Executable"/> keeping the socket, its locks and every service
/// process, output pipe and exit status. The new program takes them over and adopts every service. If the exec itself
/// fails, the process exits 1 and leaves the services running for the next daemon to take over.
/// </summary>
public interface IInPlaceUpgrade
{
    /// <summary>Whether this process may re-execute itself (<see cref="InPlaceUpgradeOptions.Executable"/> is set).</summary>
    bool IsAvailable { get; }

    /// <summary>
    /// Starts the upgrade in the background and returns at once; later requests while it runs are ignored. When it is
    /// not available, or the supervisor refuses to hand over (its state cannot be saved), nothing changes and the reason
    /// is logged.
    /// </summary>
    void Request();
}
