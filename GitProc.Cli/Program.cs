using System.Runtime.InteropServices;
using GitProc.Cli;
using GitProc.Processes;

// As PID 1 (a container's main process), `gitproc daemon` becomes a minimal init that runs the daemon as its child,
// reaps orphans and passes signals on (see ContainerInit). Before anything else: the init must not touch the console.
if (OperatingSystem.IsLinux() && Environment.ProcessId == 1 && args.Length > 0 && args[0] == "daemon")
{
    return ContainerInit.Run();
}

// Ctrl-C and SIGTERM cancel the command (ending `logs --follow`, stopping the daemon's host) instead of killing the
// process mid-write; the daemon's host also reacts to them through its console lifetime.
using var cancellation = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);

return await new GitProcCli().RunAsync(args, Console.Out, Console.Error, cancellation.Token);

void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    cancellation.Cancel();
}
