using System.CommandLine;
using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary><c>gitproc reload NAME [--json]</c> → <c>Service reloaded: NAME (PID: N)</c>.</summary>
internal static class ReloadCommand
{
    public static Command Create(CliContext context)
    {
        var name = ServiceArgument.Create();
        var json = context.JsonOption;
        var command = new Command("reload", "Reload a running service's configuration (its ExecReload= commands, or its ReloadSignal=) without restarting it")
        {
            name, json,
        };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            var service = parseResult.GetRequiredValue(name);
            if (parseResult.GetValue(json))
            {
                return await JsonOutput.PrintAsync(context, client, new IpcRequest { Command = IpcCommands.Reload, Service = service }, cancellationToken)
                    .ConfigureAwait(false);
            }

            var result = await client.ReloadAsync(service, cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine($"Service reloaded: {result.Service}{StartCommand.FormatPid(result.Pid)}");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
