using System.CommandLine;
using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary><c>gitproc stop NAME</c> → <c>Service stopped: NAME</c>.</summary>
internal static class StopCommand
{
    public static Command Create(CliContext context)
    {
        var name = ServiceArgument.Create();
        var json = context.JsonOption;
        var command = new Command("stop", "Stop a service with its whole process tree; it stays stopped until started") { name, json };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            if (parseResult.GetValue(json))
            {
                return await JsonOutput.PrintAsync(
                    context, client, new IpcRequest { Command = IpcCommands.Stop, Service = parseResult.GetRequiredValue(name) }, cancellationToken)
                    .ConfigureAwait(false);
            }

            var result = await client.StopAsync(parseResult.GetRequiredValue(name), cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine($"Service stopped: {result.Service}");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
