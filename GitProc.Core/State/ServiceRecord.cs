namespace GitProc.State;

/// <summary>What the state file keeps of one service, so a restarted daemon knows what ran and why it stopped.</summary>
public sealed record ServiceRecord
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

    /// <summary>
    /// A digest of the unit definition the running process was started with. A daemon started after its predecessor
    /// died takes over (adopts) the process only while the unit still has this digest; a unit changed meanwhile is
    /// restarted once.
    /// </summary>
    public string? UnitDigest { get; init; }

    /// <summary>
    /// The pipe that receives the main process's output, as <c>/proc</c> names it (<c>pipe:[INODE]</c>), so a daemon
    /// that adopts the process reattaches to that very pipe and to nothing else.
    /// </summary>
    public string? OutputPipe { get; init; }

    /// <summary>
    /// Output read from the pipe whose line had not ended when the daemon re-executed itself (base64); the next
    /// daemon continues the line, so an upgrade neither loses nor splits it.
    /// </summary>
    public string? PendingOutput { get; init; }
}
