using System.CommandLine;
using System.Globalization;
using GitProc.Ipc;
using GitProc.Git;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc sync [--wait] [--json]</c> → <c>Synced with Git repository</c>, <c>Reloaded N services</c>; then, when the
/// branch has no commit yet, <c>No commit on branch B yet in REPO: nothing to run until the first commit</c>; then the
/// applied commit's warnings, one <c>warning: FILE:LINE: KEY: message</c> line each; with <c>--wait</c>, once the
/// commit's verification ended, <c>Verified: SHORT</c>, or <c>Rolled back: SHORT (REASON); running RESTORED</c> and exit
/// 1. The daemon fetches the remote first (when one is set) and answers once the apply has finished.
/// </summary>
internal static class SyncCommand
{
    public static Command Create(CliContext context)
    {
        var wait = new Option<bool>("--wait") { Description = "Wait until the services the commit started or restarted are verified (or the commit is rolled back)" };
        var json = context.JsonOption;
        var command = new Command("sync", "Fetch the remote (when one is set) and apply the tip of the watched branch now") { wait, json };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            if (parseResult.GetValue(json))
            {
                var request = new IpcRequest { Command = IpcCommands.Sync, Args = parseResult.GetValue(wait) ? new IpcRequestArgs { Wait = true } : null };
                return await JsonOutput.PrintAsync(
                    context,
                    client,
                    request,
                    cancellationToken,
                    static sync => sync.TryGetProperty("result", out var result) && result.ValueEquals("rolled back") ? ExitCodes.Error : ExitCodes.Success)
                    .ConfigureAwait(false);
            }

            var result = await client.SyncAsync(parseResult.GetValue(wait), cancellationToken).ConfigureAwait(false);
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

            var shortSha = CommitText.Short(result.Commit);
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
