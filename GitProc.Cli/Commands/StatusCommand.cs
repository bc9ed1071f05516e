using System.CommandLine;
using System.Globalization;
using GitProc.Ipc;
using GitProc.Git;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc status NAME [--json]</c>: <c>Service:</c>, <c>Status:</c>, <c>PID:</c> (when running), <c>Started:</c>
/// (local time, when known), <c>Restarts:</c>, <c>Last Exit Code:</c> (when known), then more detail, including
/// <c>Warnings: N (FILE:LINE: KEY: message)</c> — the first of them — when the service's unit in the applied commit has some,
/// and last <c>Status Text:</c>, the service's own <c>STATUS=</c> notification.
/// </summary>
internal static class StatusCommand
{
    public static Command Create(CliContext context)
    {
        var name = ServiceArgument.Create();
        var json = context.JsonOption;
        var command = new Command("status", "Show a service's status") { name, json };
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            var service = parseResult.GetRequiredValue(name);
            if (parseResult.GetValue(json))
            {
                return await JsonOutput.PrintAsync(context, client, new IpcRequest { Command = IpcCommands.Status, Service = service }, cancellationToken)
                    .ConfigureAwait(false);
            }

            Print(context.Out, await client.GetStatusAsync(service, cancellationToken).ConfigureAwait(false));
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    internal static void Print(TextWriter output, IpcStatusResult status)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"Service: {status.Service}");
        output.WriteLine($"Status: {status.State}");
        if (status.State == "running" && status.Pid is { } pid)
        {
            output.WriteLine(string.Create(c, $"PID: {pid}"));
        }

        if (status.StartTime is { } started)
        {
            output.WriteLine("Started: " + started.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", c));
        }

        output.WriteLine(string.Create(c, $"Restarts: {status.RestartCount}"));
        if (status.LastExitCode is { } code)
        {
            output.WriteLine(string.Create(c, $"Last Exit Code: {code}"));
        }

        if (!string.IsNullOrEmpty(status.SubState))
        {
            output.WriteLine($"Sub-State: {status.SubState}");
        }

        if (!string.IsNullOrEmpty(status.UnmetCondition))
        {
            output.WriteLine($"Condition: {CliContext.OneLine(status.UnmetCondition)}");
        }

        if (!string.IsNullOrEmpty(status.Description))
        {
            output.WriteLine($"Description: {CliContext.OneLine(status.Description)}");
        }

        if (!string.IsNullOrEmpty(status.LastExit))
        {
            output.WriteLine($"Last Exit: {status.LastExit}");
        }

        if (!string.IsNullOrEmpty(status.FailureReason))
        {
            output.WriteLine($"Failure: {CliContext.OneLine(status.FailureReason)}");
        }

        if (status.ManuallyStopped)
        {
            output.WriteLine("Manually Stopped: yes");
        }

        if (status.Health is { } health)
        {
            output.WriteLine(status.HealthError is { } healthError
                ? $"Health: {health} (last error: {CliContext.OneLine(healthError)})"
                : $"Health: {health}");
        }

        if (status.MemoryBytes is { } memory)
        {
            output.WriteLine(string.Create(c, $"Memory: {memory / (1024.0 * 1024.0):0.0} MiB"));
        }

        if (status.CpuPercent is { } cpu)
        {
            output.WriteLine(string.Create(c, $"CPU: {cpu:0.0}%"));
        }

        if (status.Tasks is { } tasks)
        {
            output.WriteLine(string.Create(c, $"Tasks: {tasks}"));
        }

        if (status.VerifyingCommit is { } verifying)
        {
            var shortSha = CommitText.Short(verifying);
            output.WriteLine(status.VerifyingUntil is { } until
                ? $"Verifying: {shortSha} (until {until.ToLocalTime().ToString("HH:mm:ss", c)})"
                : $"Verifying: {shortSha}");
        }

        if (status.RolledBackCommit is { } rolledBack)
        {
            var shortSha = CommitText.Short(rolledBack);
            output.WriteLine($"Rolled Back: {shortSha} ({CliContext.OneLine(status.RollbackReason ?? "")})");
        }

        if (status.GitError is { } gitError)
        {
            output.WriteLine($"Git Error: {CliContext.OneLine(gitError)}");
        }

        if (status.StateError is { } stateError)
        {
            output.WriteLine(status.StateErrorSince is { } since
                ? $"State Error: {CliContext.OneLine(stateError)} (saves failing since {since.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", c)})"
                : $"State Error: {CliContext.OneLine(stateError)}");
        }

        if (status.RejectedCommit is { } rejectedCommit)
        {
            output.WriteLine($"Rejected Commit: {CliContext.OneLine(rejectedCommit)}");
        }

        if (status.Warnings is { Count: > 0 } warnings)
        {
            // One line however many warnings a unit has: the count and the first; --json carries them all.
            var first = CliContext.OneLine(warnings[0]).TrimEnd('.');
            output.WriteLine(warnings.Count == 1
                ? $"Warnings: 1 ({first})"
                : string.Create(c, $"Warnings: {warnings.Count} ({first}; {warnings.Count - 1} more in 'gitproc status {status.Service} --json')"));
        }

        if (status.LimitsEnforced)
        {
            output.WriteLine("Limits: enforced (cgroup)");
        }
        else if (status.LimitsNote is { } note)
        {
            output.WriteLine($"Limits: {CliContext.OneLine(note)}");
        }

        if (!string.IsNullOrEmpty(status.StatusText))
        {
            output.WriteLine($"Status Text: {CliContext.OneLine(status.StatusText)}");
        }

        if (status.Remote is not null)
        {
            output.WriteLine(LastFetchLine(status, c));
        }
    }

    /// <summary>
    /// <c>Last Fetch: TIME OUTCOME (next HH:mm:ss)</c>; after failures <c>Last Fetch: TIME failed, N in a row (next attempt
    /// HH:mm:ss): ERROR</c>; before the first fetch <c>Last Fetch: none yet (next HH:mm:ss)</c>.
    /// </summary>
    private static string LastFetchLine(IpcStatusResult status, CultureInfo c)
    {
        var next = status.NextFetch is { } due ? due.ToLocalTime().ToString("HH:mm:ss", c) : null;
        if (status.LastFetch is not { } last)
        {
            return next is null ? "Last Fetch: none yet" : $"Last Fetch: none yet (next {next})";
        }

        var when = last.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", c);
        if (status.LastFetchOutcome == "failed")
        {
            var attempt = next is null ? "" : $" (next attempt {next})";
            return string.Create(c, $"Last Fetch: {when} failed, {status.FetchFailures ?? 1} in a row{attempt}: {CliContext.OneLine(status.LastFetchError ?? "")}");
        }

        var outcome = status.LastFetchOutcome switch
        {
            "forced" => "forced (the remote rewrote its history; followed)",
            { } other => other.Replace('_', ' '),
            null => "done",
        };
        return next is null ? $"Last Fetch: {when} {outcome}" : $"Last Fetch: {when} {outcome} (next {next})";
    }
}
