namespace GitProc.Processes;

/// <summary>How a process ended: an exit code, or the signal that terminated it.</summary>
/// <param name="ExitCode">The exit code, when the process exited.</param>
/// <param name="Signal">The terminating signal, when a signal killed it.</param>
/// <param name="TimedOut">It was killed because it ran past its time limit.</param>
public sealed record ProcessExit(int? ExitCode, int? Signal, bool TimedOut = false)
{
    /// <summary>The process exited with code 0 (and no OOM kill hit its service).</summary>
    public bool IsSuccess => ExitCode == 0 && !TimedOut && !Watchdog && !OomKilled && Protocol is null;

    /// <summary>
    /// systemd's clean exit: code 0, or one of SIGHUP, SIGINT, SIGTERM, SIGPIPE (what <c>on-success</c>
    /// restarts on and <c>on-failure</c> does not).
    /// An OOM kill is never clean, whatever the main process's status.
    /// </summary>
    public bool IsClean => !TimedOut && !Watchdog && !OomKilled && Protocol is null && (ExitCode == 0 || Signal is 1 or 2 or 13 or 15);

    /// <summary>
    /// The code shown to users as "Last Exit Code": the exit code, or 128 + signal as shells report it.
    /// </summary>
    public int DisplayCode => ExitCode ?? 128 + (Signal ?? 0);

    /// <summary>
    /// The kernel's OOM killer ended it, or killed another process of its service (any process in the service's cgroup:
    /// a shell whose child was killed exits 137), which made it end: systemd's result <c>oom-kill</c>.
    /// </summary>
    public bool OomKilled { get; init; }

    /// <summary>
    /// The watchdog ended it: a service with <c>WatchdogSec=</c> sent no <c>WATCHDOG=1</c> in time (or sent
    /// <c>WATCHDOG=trigger</c>) and was killed with SIGABRT. systemd's result <c>watchdog</c>.
    /// </summary>
    public bool Watchdog { get; init; }

    /// <summary>
    /// Why the start failed although the process itself did not (systemd's result <c>protocol</c>): a
    /// <c>Type=forking</c> service whose main PID could not be found. Not clean, so <c>Restart=on-failure</c> restarts
    /// it; <c>on-abnormal</c> does not.
    /// </summary>
    internal string? Protocol { get; init; }

    /// <summary>
    /// Why the status is unknown, when it is not the usual reason (a process taken over from an earlier daemon).
    /// </summary>
    internal string? UnknownBecause { get; init; }

    /// <summary>
    /// Whether the exit code or signal is known. It is not when the process was taken over from a daemon that died:
    /// only a parent learns its child's exit status, and the process's parent became init.
    /// </summary>
    public bool IsKnown => ExitCode is not null || Signal is not null || TimedOut;

    /// <summary>An exit whose status could not be learnt (see <see cref="IsKnown"/>).</summary>
    public static ProcessExit Unknown { get; } = new(null, null);

    /// <inheritdoc />
    public override string ToString() => Protocol is { } protocol
        ? protocol
        : TimedOut
        ? "timed out"
        : OomKilled && Signal == 9 ? "killed by the OOM killer (signal 9): out of memory"
        : OomKilled ? $"{Plain()} after the OOM killer killed a process of the service: out of memory"
        : Watchdog ? $"killed by the watchdog: no WATCHDOG=1 in time ({(Signal is { } s ? $"signal {s}" : $"exit code {ExitCode}")})"
        : Plain();

    private string Plain() =>
        Signal is { } signal ? $"killed by signal {signal}"
        : ExitCode is { } code ? $"exited with code {code}"
        : $"exited (status unknown: {UnknownBecause ?? "it was taken over from an earlier daemon and is not this daemon's child"})";

    /// <summary>Decodes a status in <c>waitpid</c>'s encoding (as <c>/proc/PID/stat</c> shows a zombie's).</summary>
    internal static ProcessExit FromWaitStatus(int status) =>
        (status & 0x7f) == 0 ? new ProcessExit((status >> 8) & 0xff, null) : new ProcessExit(null, status & 0x7f);
}
