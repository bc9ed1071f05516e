namespace GitProc.Ipc;

/// <summary>
/// The data of a successful <c>status</c>: the contract's keys <c>service</c>, <c>state</c>, <c>pid</c>,
/// <c>start_time</c>, <c>restart_count</c>, <c>last_exit_code</c>, then more detail. Every key is always present;
/// unknown values are <c>null</c>.
/// </summary>
public sealed record IpcStatusResult
{
    /// <summary>The service name.</summary>
    public string Service { get; init; } = "";

    /// <summary><c>running</c>, <c>stopped</c> or <c>failed</c>.</summary>
    public string State { get; init; } = "";

    /// <summary>The main process's pid while running.</summary>
    public int? Pid { get; init; }

    /// <summary>When the current (or last) process started, ISO 8601 with offset.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>Automatic restarts since the daemon first started the service.</summary>
    public int RestartCount { get; init; }

    /// <summary>The last exit code (128 + signal when a signal ended it), when known.</summary>
    public int? LastExitCode { get; init; }

    /// <summary>More detail on the state (<c>starting</c>, <c>auto-restart</c>, <c>start-limit-hit</c>, ...).</summary>
    public string? SubState { get; init; }

    /// <summary>
    /// Why the service does not run on this host (sub-state <c>condition</c>): its unmet <c>ConditionHost=</c>, such as
    /// <c>ConditionHost=db-* is not met on host web-1</c>; <see langword="null"/> when it runs here.
    /// </summary>
    public string? UnmetCondition { get; init; }

    /// <summary>The unit's description, if any.</summary>
    public string? Description { get; init; }

    /// <summary>An operator stopped it.</summary>
    public bool ManuallyStopped { get; init; }

    /// <summary>Why the service is failed, when it is.</summary>
    public string? FailureReason { get; init; }

    /// <summary>How the last process ended, in words, when known.</summary>
    public string? LastExit { get; init; }

    /// <summary>The service's last <c>STATUS=</c> notification (<c>Type=notify</c>), if any.</summary>
    public string? StatusText { get; init; }

    /// <summary>The service runs in its own cgroup: its limits are enforced and a stop reaches every process.</summary>
    public bool LimitsEnforced { get; init; }

    /// <summary>Why the unit's limits are not enforced, when they are not.</summary>
    public string? LimitsNote { get; init; }

    /// <summary>Memory used by the service's cgroup, in bytes.</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>Recent CPU use in percent of one CPU.</summary>
    public double? CpuPercent { get; init; }

    /// <summary>Total CPU time of the service's cgroup, in seconds.</summary>
    public double? CpuTimeSeconds { get; init; }

    /// <summary>Tasks (processes and threads) in the service's cgroup.</summary>
    public long? Tasks { get; init; }

    /// <summary><c>healthy</c>, <c>unhealthy</c> or <c>unknown</c> when the unit has a health check.</summary>
    public string? Health { get; init; }

    /// <summary>The last health check error's text, if any.</summary>
    public string? HealthError { get; init; }

    /// <summary>When the last health check error happened.</summary>
    public DateTimeOffset? HealthErrorTime { get; init; }

    /// <summary>The tip of the watched branch when it was rejected (short sha and reason); the last good commit runs.</summary>
    public string? RejectedCommit { get; init; }

    /// <summary>
    /// What the service's unit in the applied commit has that GitProc does not act on, one <c>FILE:LINE: KEY: message</c>
    /// string each; empty when nothing.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Why the units repository could not be read the last time it was tried (a corrupt object, say), while that lasts.</summary>
    public string? GitError { get; init; }

    /// <summary>The applied commit whose services are still being verified, if one is.</summary>
    public string? VerifyingCommit { get; init; }

    /// <summary>When that verification ends at the latest.</summary>
    public DateTimeOffset? VerifyingUntil { get; init; }

    /// <summary>While the newest commit is one that was rolled back after failing verification: that commit.</summary>
    public string? RolledBackCommit { get; init; }

    /// <summary>Why it was rolled back.</summary>
    public string? RollbackReason { get; init; }

    /// <summary>Why the daemon's state could not be saved, while saving fails (disk full, read-only).</summary>
    public string? StateError { get; init; }

    /// <summary>Since when saving the state has been failing.</summary>
    public DateTimeOffset? StateErrorSince { get; init; }

    /// <summary>The remote the watched branch follows, without user information; <see langword="null"/> without one.</summary>
    public string? Remote { get; init; }

    /// <summary>When the last fetch of <see cref="Remote"/> ended; <see langword="null"/> before the first.</summary>
    public DateTimeOffset? LastFetch { get; init; }

    /// <summary>What it did: <c>up_to_date</c>, <c>fast_forwarded</c>, <c>local_ahead</c>, <c>forced</c> or <c>failed</c>.</summary>
    public string? LastFetchOutcome { get; init; }

    /// <summary>Why the last fetch failed, while the last one failed.</summary>
    public string? LastFetchError { get; init; }

    /// <summary>When a fetch last succeeded.</summary>
    public DateTimeOffset? LastFetchSuccess { get; init; }

    /// <summary>Failed fetches since the last success (the backoff's attempt count); <see langword="null"/> without a remote.</summary>
    public int? FetchFailures { get; init; }

    /// <summary>When the daemon fetches next: the backoff's next attempt after a failure.</summary>
    public DateTimeOffset? NextFetch { get; init; }
}
