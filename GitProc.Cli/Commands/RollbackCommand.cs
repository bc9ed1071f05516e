using System.CommandLine;
using System.Globalization;
using GitProc.Git;
using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc rollback COMMIT [--json]</c> → <c>Rolled back to SHORT</c>, <c>New commit: FULL</c>, <c>Reloaded N services</c>.
/// </summary>
internal static class RollbackCommand
{
    public static Command Create(CliContext context)
    {
        var commit = new Argument<string>("COMMIT") { Description = "The commit whose unit files to restore (a new commit is made; history is kept)" };
        var json = context.JsonOption;
        var command = new Command("rollback", "Restore the unit files of an earlier commit") { commit, json };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            if (parseResult.GetValue(json))
            {
                var request = new IpcRequest { Command = IpcCommands.Rollback, Args = new IpcRequestArgs { Commit = parseResult.GetRequiredValue(commit) } };
                return await JsonOutput.PrintAsync(context, client, request, cancellationToken).ConfigureAwait(false);
            }

            var result = await client.RollbackAsync(parseResult.GetRequiredValue(commit), cancellationToken).ConfigureAwait(false);
            var restored = CommitText.Short(result.RestoredCommit);
            context.Out.WriteLine($"Rolled back to {restored}");
            context.Out.WriteLine($"New commit: {result.Commit}");
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Reloaded {result.Reloaded} services"));
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
