namespace GitProc.State;

/// <summary>One service's persisted state.</summary>
public sealed record ServiceState
{
    /// <summary>The service name.</summary>
    public required string Name { get; init; }

    /// <summary>What users see: <c>running</c>, <c>stopped</c> or <c>failed</c>.</summary>
    public ServiceStatus Status { get; init; } = ServiceStatus.Stopped;

    /// <summary>The main process's pid while running.</summary>
    public int? Pid { get; init; }

    /// <summary>The main process's start time in <c>/proc</c> clock ticks, to recognise it after a daemon restart.</summary>
    public long? ProcessStartTicks { get; init; }

    /// <summary>When the current (or last) process was started.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>How many times the service was restarted automatically (crash, unhealthy).</summary>
    public int RestartCount { get; init; }

    /// <summary>The last exit code (128 + signal for a signal), when known.</summary>
    public int? LastExitCode { get; init; }

    /// <summary>An operator stopped it with <c>gitproc stop</c>; it stays stopped until started or its unit changes.</summary>
    public bool ManuallyStopped { get; init; }
}
