using System.CommandLine;
using System.Globalization;
using GitProc.Ipc;
using GitProc.Git;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc history [-n N] [--json]</c>: one line per commit the daemon saw, newest first:
/// <c>SHORT  yyyy-MM-dd HH:mm:ss  RESULT  started: a, b; restarted: c; stopped: -  SUBJECT</c>, then, indented, why it
/// was rolled back or rejected, and whether a force-push brought it.
/// </summary>
internal static class HistoryCommand
{
    public static Command Create(CliContext context)
    {
        var count = new Option<int?>("--lines", "-n") { Description = "How many commits (default: all that are kept)", HelpName = "N" };
        var json = context.JsonOption;
        var command = new Command("history", "Show the commits the daemon saw and what became of each") { count, json };
        command.Validators.Add(result =>
        {
            if (result.GetValue(count) is < 0)
            {
                result.AddError("-n must be 0 or more");
            }
        });
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            var limit = parseResult.GetValue(count);
            if (parseResult.GetValue(json))
            {
                return await JsonOutput.PrintAsync(
                    context,
                    client,
                    new IpcRequest { Command = IpcCommands.History, Args = limit is null ? null : new IpcRequestArgs { Limit = limit } },
                    cancellationToken).ConfigureAwait(false);
            }

            var history = await client.GetHistoryAsync(limit, cancellationToken).ConfigureAwait(false);
            foreach (var record in history.Records)
            {
                Print(context.Out, record);
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    internal static void Print(TextWriter output, IpcHistoryRecord record)
    {
        static string List(IReadOnlyList<string> names) => names.Count == 0 ? "-" : string.Join(", ", names);

        var shortSha = CommitText.Short(record.Commit);
        var when = (record.Applied ?? record.Received).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var changes = record.Applied is null
            ? "-"
            : $"started: {List(record.Started)}; restarted: {List(record.Restarted)}; stopped: {List(record.Stopped)}";
        output.WriteLine($"{shortSha}  {when}  {record.Result}  {changes}  {CliContext.OneLine(record.Subject ?? "")}".TrimEnd());
        if (record.RollbackReason is { } reason)
        {
            var restored = record.RestoredCommit is { Length: > 7 } r ? r[..7] : record.RestoredCommit ?? "no commit";
            output.WriteLine($"    rolled back to {restored}: {CliContext.OneLine(reason)}");
        }
        else
        {
            foreach (var error in record.Errors)
            {
                output.WriteLine($"    {CliContext.OneLine(error)}");
            }
        }

        if (record.ReplacedCommit is { } replaced)
        {
            output.WriteLine($"    force-pushed: the remote rewrote the branch, replacing {CommitText.Short(replaced)}");
        }
    }
}
