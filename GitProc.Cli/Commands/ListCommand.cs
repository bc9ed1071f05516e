using System.CommandLine;
using System.Globalization;
using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc list [--json]</c>: <c>Available services:</c>, then <c>  NAME (running, PID: N)</c>,
/// <c>  NAME (stopped)</c>, <c>  NAME (stopped (condition))</c> (its <c>ConditionHost=</c> keeps it off this host) or
/// <c>  NAME (failed, exit code: N)</c>.
/// </summary>
internal static class ListCommand
{
    public static Command Create(CliContext context)
    {
        var json = context.JsonOption;
        var command = new Command("list", "List every service with its state") { json };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            if (parseResult.GetValue(json))
            {
                return await JsonOutput.PrintAsync(context, client, new IpcRequest { Command = IpcCommands.List }, cancellationToken)
                    .ConfigureAwait(false);
            }

            var list = await client.ListAsync(cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine("Available services:");
            foreach (var service in list.Services)
            {
                context.Out.WriteLine(Format(service));
            }

            // Not indented: a script reading "  NAME (…)" lines skips it.
            if (list.RolledBack is { } rolledBack)
            {
                context.Out.WriteLine($"Rolled back: {CliContext.OneLine(rolledBack)}");
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    internal static string Format(IpcListEntry service)
    {
        var c = CultureInfo.InvariantCulture;
        return service switch
        {
            { Status: "running", Pid: { } pid } => string.Create(c, $"  {service.Name} (running, PID: {pid})"),
            { Status: "failed", LastExitCode: { } code } => string.Create(c, $"  {service.Name} (failed, exit code: {code})"),
            // CONTRACT §2's words for a unit whose ConditionHost= keeps it off this host; "  NAME (stopped" still starts the line.
            { Status: "stopped", SubState: "condition" } => $"  {service.Name} (stopped (condition))",
            _ => $"  {service.Name} ({service.Status})",
        };
    }
}
