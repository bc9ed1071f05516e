using System.CommandLine;
using System.Globalization;

namespace GitProc.Cli.Commands;

/// <summary><c>gitproc sync</c> → <c>Synced with Git repository</c>, <c>Reloaded N services</c>.</summary>
internal static class SyncCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("sync", "Apply the tip of the watched branch now");
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            var result = await client.SyncAsync(cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine("Synced with Git repository");
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Reloaded {result.Reloaded} services"));
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
