namespace GitProc.Supervision;

/// <summary>
/// What a service is doing, in more detail than its <see cref="GitProc.State.ServiceStatus"/>. Users see these as the
/// words <see cref="ServiceSubStateText.ToText"/> gives (<c>Sub-State:</c> in status, <c>sub_state</c> in JSON, events).
/// </summary>
internal enum ServiceSubState
{
    /// <summary><c>dead</c>: stopped.</summary>
    Dead,

    /// <summary><c>condition</c>: stopped, because the unit's <c>ConditionHost=</c> is not met on this host.</summary>
    Condition,

    /// <summary><c>starting</c>: a launch is under way (ExecStartPre, waiting for READY=1 or the forked daemon).</summary>
    Starting,

    /// <summary><c>running</c>: the main process runs.</summary>
    Running,

    /// <summary><c>stopping</c>: a stop is under way, or a running service said <c>STOPPING=1</c>.</summary>
    Stopping,

    /// <summary><c>reloading</c>: a running service said <c>RELOADING=1</c>.</summary>
    Reloading,

    /// <summary><c>exited</c>: a oneshot that succeeded (and, with <c>RemainAfterExit=yes</c>, remains active).</summary>
    Exited,

    /// <summary><c>auto-restart</c>: ended, and waiting for its restart delay.</summary>
    AutoRestart,

    /// <summary><c>waiting-for-resources</c>: a start the daemon could not make for want of descriptors or memory, retried.</summary>
    WaitingForResources,

    /// <summary><c>failed</c>: ended in a way its <c>Restart=</c> does not restart.</summary>
    Failed,

    /// <summary><c>start-limit-hit</c>: more starts than <c>StartLimitBurst=</c> within <c>StartLimitIntervalSec=</c>.</summary>
    StartLimitHit,

    /// <summary><c>dependency-failed</c>: a required dependency did not come up, so it was not started.</summary>
    DependencyFailed,
}
