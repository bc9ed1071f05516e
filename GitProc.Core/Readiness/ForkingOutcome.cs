using GitProc.Processes;

namespace GitProc.Readiness;

/// <summary>How a <c>Type=forking</c> start ended: the service runs, the start failed (and why), or a stop took over.</summary>
internal sealed record ForkingOutcome(IServiceProcess? Process, ProcessExit? Exit, string? Reason, bool Aborted)
{
    public static ForkingOutcome Running(IServiceProcess process) => new(process, null, null, false);

    public static ForkingOutcome Failed(ProcessExit exit, string reason) => new(null, exit, reason, false);

    public static ForkingOutcome Stopped(ProcessExit exit) => new(null, exit, null, true);
}
