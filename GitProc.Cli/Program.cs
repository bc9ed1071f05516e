using System.Runtime.InteropServices;
using GitProc.Cli;

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
