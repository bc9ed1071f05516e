using GitProc.State;

namespace GitProc.Supervision;

/// <summary>A service's status as users see it (CONTRACT §3, §6, §7).</summary>
public sealed record ServiceStatusInfo
{
    /// <summary>The service name.</summary>
    public required string Name { get; init; }

    /// <summary><c>running</c>, <c>stopped</c> or <c>failed</c>.</summary>
    public required ServiceStatus Status { get; init; }

    /// <summary>
    /// More detail: <c>starting</c>, <c>running</c>, <c>stopping</c>, <c>auto-restart</c> (waiting to restart),
    /// <c>exited</c> (a oneshot that succeeded), <c>dead</c> (stopped), <c>failed</c>, <c>start-limit-hit</c>,
    /// <c>dependency-failed</c>.
    /// </summary>
    public required string SubState { get; init; }

    /// <summary>The unit's description, if any.</summary>
    public string? Description { get; init; }

    /// <summary>The main process's pid while running.</summary>
    public int? Pid { get; init; }

    /// <summary>When the current (or last) process was started.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>Automatic restarts (crash, unhealthy) since the daemon first started the service.</summary>
    public int RestartCount { get; init; }

    /// <summary>The last exit code (128 + signal when a signal ended it), when known.</summary>
    public int? LastExitCode { get; init; }

    /// <summary>How the last process ended, in words ("killed by signal 9"), when known.</summary>
    public string? LastExit { get; init; }

    /// <summary>Why the service is failed, when it is.</summary>
    public string? FailureReason { get; init; }

    /// <summary>An operator stopped it; it stays stopped until started or its unit changes.</summary>
    public bool ManuallyStopped { get; init; }
}
