using System.CommandLine;
using System.Globalization;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc sync [--wait]</c> → <c>Synced with Git repository</c>, <c>Reloaded N services</c>; with <c>--wait</c>, once
/// the commit's verification ended, <c>Verified: SHORT</c>, or <c>Rolled back: SHORT (REASON); running RESTORED</c> and
/// exit 1.
/// </summary>
internal static class SyncCommand
{
    public static Command Create(CliContext context)
    {
        var wait = new Option<bool>("--wait") { Description = "Wait until the services the commit started or restarted are verified (or the commit is rolled back)" };
        var command = new Command("sync", "Apply the tip of the watched branch now") { wait };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            var result = await client.SyncAsync(parseResult.GetValue(wait), cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine("Synced with Git repository");
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Reloaded {result.Reloaded} services"));
            var shortSha = result.Commit.Length > 7 ? result.Commit[..7] : result.Commit;
            switch (result.Result)
            {
                case "rolled back":
                    var restored = result.RestoredCommit is { Length: > 7 } r ? r[..7] : result.RestoredCommit ?? "no commit";
                    context.Out.WriteLine($"Rolled back: {shortSha} ({CliContext.OneLine(result.RollbackReason ?? "")}); running {restored}");
                    return ExitCodes.Error;
                case "superseded":
                    context.Out.WriteLine($"Superseded: {shortSha} (a newer commit was applied before its verification ended)");
                    return ExitCodes.Success;
                case "applied":
                    context.Out.WriteLine($"Verified: {shortSha}");
                    return ExitCodes.Success;
                default:
                    return ExitCodes.Success;
            }
        }, cancellationToken));
        return command;
    }
}
