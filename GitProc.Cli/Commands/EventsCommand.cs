using System.CommandLine;
using System.Globalization;
using GitProc.Events;
using GitProc.Git;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc events [--service NAME] [--type TYPE]... [--json]</c>: the daemon's events as they happen, one line each
/// (<c>2026-12-01 03:10:00 web running -&gt; failed (exited with code 3)</c>), or with <c>--json</c> each object exactly
/// as the daemon sent it, until Ctrl-C/SIGTERM (exit 0) or the daemon closes the stream (exit 1, saying so).
/// </summary>
internal static class EventsCommand
{
    public static Command Create(CliContext context)
    {
        var service = new Option<string?>("--service") { Description = "Only events about this service", HelpName = "NAME" };
        var types = new Option<string[]>("--type")
        {
            Description = "Only events of this type or family (service.state, commit, health.changed, git.fetch, ...); repeatable",
            HelpName = "TYPE",
        };
        var json = context.JsonOption;
        var command = new Command("events", "Print the daemon's events (state changes, applies, rejections, rollbacks, health, fetches) as they happen")
        {
            service, types, json,
        };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            var filter = parseResult.GetValue(types) is { Length: > 0 } t ? t : null;
            var raw = parseResult.GetValue(json);
            var name = parseResult.GetValue(service);
            try
            {
                var lines = raw
                    ? client.SubscribeJsonAsync(name, filter, cancellationToken)
                    : Formatted(client.SubscribeAsync(name, filter, cancellationToken));
                await foreach (var line in lines.ConfigureAwait(false))
                {
                    await context.Out.WriteLineAsync(line).ConfigureAwait(false);
                    await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Interrupted: the normal end of watching.
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static async IAsyncEnumerable<string> Formatted(IAsyncEnumerable<GitProcEvent> events)
    {
        await foreach (var e in events.ConfigureAwait(false))
        {
            yield return Format(e);
        }
    }

    /// <summary>One event as a person reads it: local time, then what happened.</summary>
    internal static string Format(GitProcEvent e)
    {
        var c = CultureInfo.InvariantCulture;
        var time = e.Time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", c);
        var what = e.Type switch
        {
            EventTypes.ServiceRecord => $"{e.Service} {e.From} -> {e.To}{Why(e.Reason)}{SubState(e)}"
                + (e.To == "running" && e.Pid is { } pid ? $", pid {pid}" : "")
                + (e.RestartCount is > 0 and var restarts ? $", restarts {restarts}" : ""),
            EventTypes.ServiceOomKill => $"{e.Service} OOM kill{(e.Pid is { } oomPid ? $" (pid {oomPid} runs)" : "")}: {e.Reason}",
            EventTypes.HealthChanged => $"{e.Service} health {e.From} -> {e.To}{Why(e.Reason)}",
            EventTypes.CommitApplied => $"commit {Short(e.Commit)} applied: started {List(e.Started)}; restarted {List(e.Restarted)}; stopped {List(e.Stopped)}",
            EventTypes.CommitRejected => $"commit {Short(e.Commit)} rejected: {e.Reason}",
            EventTypes.CommitVerified => $"commit {Short(e.Commit)} verified" + (e.Reason is null ? "" : $", kept although: {e.Reason}"),
            EventTypes.CommitRolledBack => $"commit {Short(e.Commit)} rolled back: {e.Reason}" + (e.RestoredCommit is null ? "" : $"; running {Short(e.RestoredCommit)}"),
            EventTypes.CommitSuperseded => $"commit {Short(e.Commit)} superseded by a newer commit before its verdict",
            EventTypes.GitFetch => e.Outcome == "failed"
                ? $"fetch failed: {e.Reason}"
                : $"fetch {e.Outcome?.Replace('_', ' ')}: {(e.PreviousCommit == e.Commit ? Short(e.Commit) : $"{Short(e.PreviousCommit)} -> {Short(e.Commit)}")}",
            _ => e.Type + (e.Service is null ? "" : " " + e.Service),
        };
        return time + " " + CliContext.OneLine(what);
    }

    private static string Why(string? reason) => reason is null ? "" : $" ({reason})";

    // The sub-state when it says more than the status (auto-restart, start-limit-hit, waiting-for-resources, ...).
    private static string SubState(GitProcEvent e) => e.ToSubState is null or "running" or "dead" or "failed" ? "" : ", " + e.ToSubState;

    private static string Short(string? commit) => commit is null ? "-" : CommitText.Short(commit);

    private static string List(IReadOnlyList<string>? services) => services is { Count: > 0 } ? string.Join(", ", services) : "-";
}
