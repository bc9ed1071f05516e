namespace GitProc.UnitFiles;

/// <summary><c>[Service] Restart=</c>, with systemd's meanings.</summary>
public enum RestartPolicy
{
    /// <summary>Never restart.</summary>
    No,

    /// <summary>Restart however the process ended.</summary>
    Always,

    /// <summary>Restart after a clean exit: code 0, or SIGHUP, SIGINT, SIGTERM or SIGPIPE.</summary>
    OnSuccess,

    /// <summary>Restart after a non-zero exit code, a signal other than the clean ones, a timeout or the watchdog.</summary>
    OnFailure,

    /// <summary>Restart after an unclean signal, a timeout or the watchdog, not after any exit code.</summary>
    OnAbnormal,

    /// <summary>Restart only after an uncaught signal that is not a clean one.</summary>
    OnAbort,

    /// <summary>Restart only after the watchdog (<c>WatchdogSec=</c>) killed the service.</summary>
    OnWatchdog,
}
