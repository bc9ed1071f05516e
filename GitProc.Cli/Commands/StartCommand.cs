using System.CommandLine;
using System.Globalization;
using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary><c>gitproc start NAME</c> → <c>Service started: NAME (PID: N)</c>.</summary>
internal static class StartCommand
{
    public static Command Create(CliContext context)
    {
        var name = ServiceArgument.Create();
        var json = context.JsonOption;
        var command = new Command("start", "Start a service (and what it depends on)") { name, json };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            if (parseResult.GetValue(json))
            {
                return await JsonOutput.PrintAsync(
                    context, client, new IpcRequest { Command = IpcCommands.Start, Service = parseResult.GetRequiredValue(name) }, cancellationToken)
                    .ConfigureAwait(false);
            }

            var result = await client.StartAsync(parseResult.GetRequiredValue(name), cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Service started: {result.Service}{FormatPid(result.Pid)}"));
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    /// <summary><c> (PID: N)</c>, or nothing when no process runs (a oneshot that already ended).</summary>
    internal static string FormatPid(int? pid) =>
        pid is { } p ? string.Create(CultureInfo.InvariantCulture, $" (PID: {p})") : "";
}
