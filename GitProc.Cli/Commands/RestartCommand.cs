using System.CommandLine;
using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary><c>gitproc restart NAME</c> → <c>Service restarted: NAME (PID: N)</c>.</summary>
internal static class RestartCommand
{
    public static Command Create(CliContext context)
    {
        var name = ServiceArgument.Create();
        var json = context.JsonOption;
        var command = new Command("restart", "Stop (if running) and start a service") { name, json };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            if (parseResult.GetValue(json))
            {
                return await JsonOutput.PrintAsync(
                    context, client, new IpcRequest { Command = IpcCommands.Restart, Service = parseResult.GetRequiredValue(name) }, cancellationToken)
                    .ConfigureAwait(false);
            }

            var result = await client.RestartAsync(parseResult.GetRequiredValue(name), cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine($"Service restarted: {result.Service}{StartCommand.FormatPid(result.Pid)}");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
