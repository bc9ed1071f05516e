namespace GitProc.Processes;

/// <summary>A started process.</summary>
/// <param name="Service">The service it belongs to.</param>
/// <param name="Pid">Its pid (also its process group and session id).</param>
/// <param name="StartTime">When it was started (wall clock).</param>
/// <param name="StartTicks">Its start time from <c>/proc/PID/stat</c> (clock ticks since boot), which tells it apart from a later process that reuses the pid.</param>
public sealed record ProcessInfo(string Service, int Pid, DateTimeOffset StartTime, long StartTicks)
{
    /// <summary>
    /// The pipe that carries the process's output, as <c>/proc</c> names it (<c>pipe:[INODE]</c>); <see langword="null"/>
    /// when its output is not captured. Recorded so a daemon that takes the process over reads that very pipe.
    /// </summary>
    public string? OutputPipe { get; init; }
}
