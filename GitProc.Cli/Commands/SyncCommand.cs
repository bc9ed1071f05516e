using System.CommandLine;
using System.Globalization;
using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc sync [--json]</c> → <c>Synced with Git repository</c>, <c>Reloaded N services</c>; then, when the branch has
/// no commit yet, <c>No commit on branch B yet in REPO: nothing to run until the first commit</c>; then the applied
/// commit's warnings, one <c>warning: FILE:LINE: KEY: message</c> line each. The daemon fetches the remote first (when
/// one is set) and answers once the apply has finished.
/// </summary>
internal static class SyncCommand
{
    public static Command Create(CliContext context)
    {
        var json = new Option<bool>("--json") { Description = "Print the daemon's sync object as JSON" };
        var command = new Command("sync", "Fetch the remote (when one is set) and apply the tip of the watched branch now") { json };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            if (parseResult.GetValue(json))
            {
                return await JsonOutput.PrintAsync(context, client, new IpcRequest { Command = IpcCommands.Sync }, cancellationToken)
                    .ConfigureAwait(false);
            }

            var result = await client.SyncAsync(cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine("Synced with Git repository");
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Reloaded {result.Reloaded} services"));
            if (result.Commit.Length == 0)
            {
                context.Out.WriteLine($"No commit on branch {result.Branch} yet in {result.Repository}: nothing to run until the first commit");
            }

            foreach (var warning in result.Warnings)
            {
                context.Out.WriteLine("warning: " + CliContext.OneLine(warning.ToString()));
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
