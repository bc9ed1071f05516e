namespace GitProc.Processes;

/// <summary>A started process.</summary>
/// <param name="Service">The service it belongs to.</param>
/// <param name="Pid">Its pid (also its process group and session id).</param>
/// <param name="StartTime">When it was started (wall clock).</param>
/// <param name="StartTicks">Its start time from <c>/proc/PID/stat</c> (clock ticks since boot), which tells it apart from a later process that reuses the pid.</param>
public sealed record ProcessInfo(string Service, int Pid, DateTimeOffset StartTime, long StartTicks);
