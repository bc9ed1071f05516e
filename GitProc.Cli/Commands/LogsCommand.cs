using System.CommandLine;
using System.Globalization;
using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc logs NAME [--lines/-n N] [--follow/-f] [--json]</c>: the stored lines; with <c>--follow</c>, new lines until
/// interrupted. With <c>--json</c>: <c>{"service", "lines": [...]}</c>; with both, <c>{"service", "line"}</c> for each line,
/// the stored ones first, as they arrive.
/// </summary>
internal static class LogsCommand
{
    public static Command Create(CliContext context)
    {
        var name = ServiceArgument.Create();
        var lines = new Option<int>("--lines", "-n")
        {
            Description = $"How many stored lines to show (default {IpcCommands.DefaultLogLines})",
            HelpName = "N",
            DefaultValueFactory = _ => IpcCommands.DefaultLogLines,
        };
        lines.Validators.Add(result =>
        {
            // Only a number can be negative; anything else already has System.CommandLine's own parse error.
            if (result.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out var value) && value < 0)
            {
                result.AddError("--lines must be 0 or more.");
            }
        });
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines as they are written, until interrupted" };
        var json = context.JsonOption;
        var command = new Command("logs", "Show a service's log") { name, lines, follow, json };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            var service = parseResult.GetRequiredValue(name);
            var count = parseResult.GetValue(lines);
            if (!parseResult.GetValue(follow))
            {
                var text = await client.GetLogsAsync(service, count, cancellationToken).ConfigureAwait(false);
                if (text.Length == 0 && count > 0)
                {
                    return context.Fail(GitProcErrorCodes.NoLogs, $"No logs for service: {service}");
                }

                await context.Out.WriteAsync(context.Json
                    ? JsonOutput.Object(w =>
                    {
                        w.WriteString("service", service);
                        JsonOutput.WriteStrings(w, "lines", Lines(text));
                    }) + "\n"
                    : text).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            try
            {
                await foreach (var text in client.FollowLogsAsync(service, count, cancellationToken).ConfigureAwait(false))
                {
                    if (context.Json)
                    {
                        foreach (var line in Lines(text))
                        {
                            await context.Out.WriteLineAsync(JsonOutput.Object(w =>
                            {
                                w.WriteString("service", service);
                                w.WriteString("line", line);
                            })).ConfigureAwait(false);
                        }
                    }
                    else
                    {
                        await context.Out.WriteAsync(text).ConfigureAwait(false);
                    }

                    await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Interrupted: the normal end of following.
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    /// <summary>The lines of the daemon's text, whose every line ends with <c>\n</c>.</summary>
    private static string[] Lines(string text) =>
        text.Length == 0 ? [] : text.TrimEnd('\n').Split('\n');
}
