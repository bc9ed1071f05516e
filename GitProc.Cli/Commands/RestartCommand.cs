using System.CommandLine;

namespace GitProc.Cli.Commands;

/// <summary><c>gitproc restart NAME</c> → <c>Service restarted: NAME (PID: N)</c>.</summary>
internal static class RestartCommand
{
    public static Command Create(CliContext context)
    {
        var name = ServiceArgument.Create();
        var command = new Command("restart", "Stop (if running) and start a service") { name };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            var result = await client.RestartAsync(parseResult.GetRequiredValue(name), cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine($"Service restarted: {result.Service}{StartCommand.FormatPid(result.Pid)}");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
