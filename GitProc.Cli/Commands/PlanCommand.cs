using System.CommandLine;
using GitProc.Ipc;
using GitProc.Git;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc plan [REV] [--host HOST [--machine-id ID]] [--json]</c>: what applying REV (default: the branch tip) would
/// do, asked of the daemon (it knows what runs): <c>Plan for SHORT:</c> (<c>Plan for SHORT on host HOST:</c> with
/// <c>--host</c>), then one line per service, <c>  start NAME</c>, <c>  restart NAME (changed: KEY, …)</c>,
/// <c>  stop NAME</c> or <c>  unchanged NAME</c>, a reason in brackets where the action does not say it (a
/// <c>ConditionHost=</c> not met, say). Exit 1, with the reasons on stderr, when REV would be rejected.
/// </summary>
internal static class PlanCommand
{
    public static Command Create(CliContext context)
    {
        var revision = new Argument<string?>("REV") { Description = "The commit to plan (default: the tip of the watched branch)", Arity = ArgumentArity.ZeroOrOne };
        var host = new Option<string?>("--host")
        {
            Description = "Plan for this host of the fleet, by the units' ConditionHost= (as if it ran the commit this daemon applied)",
            HelpName = "HOST",
        };
        var machineId = new Option<string?>("--machine-id") { Description = "With --host: that host's machine id, for ConditionHost= that names one", HelpName = "ID" };
        var json = context.JsonOption;
        var command = new Command("plan", "Show what applying a commit would start, restart and stop") { revision, host, machineId, json };
        command.Validators.Add(result =>
        {
            if (result.GetValue(machineId) is not null && result.GetValue(host) is null)
            {
                result.AddError("--machine-id needs --host: it is the machine id of that host.");
            }
        });
        command.SetAction((parseResult, cancellationToken) => context.RunClientAsync(parseResult, async client =>
        {
            var rev = parseResult.GetValue(revision);
            var hostName = parseResult.GetValue(host);
            var id = parseResult.GetValue(machineId);
            if (parseResult.GetValue(json))
            {
                var args = rev is null && hostName is null ? null : new IpcRequestArgs { Commit = rev, Host = hostName, MachineId = id };
                return await JsonOutput.PrintAsync(
                    context,
                    client,
                    new IpcRequest { Command = IpcCommands.Plan, Args = args },
                    cancellationToken,
                    static plan => plan.TryGetProperty("errors", out var errors) && errors.GetArrayLength() > 0 ? ExitCodes.Error : ExitCodes.Success)
                    .ConfigureAwait(false);
            }

            var plan = await client.PlanAsync(rev, hostName, id, cancellationToken).ConfigureAwait(false);
            var shortSha = CommitText.Short(plan.Commit);
            if (plan.Errors.Count > 0)
            {
                return context.Fail(GitProcErrorCodes.CommitRejected, $"Commit {shortSha} would be rejected: {string.Join(" ", plan.Errors.Select(CliContext.OneLine))}");
            }

            context.Out.WriteLine(hostName is null ? $"Plan for {shortSha}:" : $"Plan for {shortSha} on host {plan.Host ?? hostName}:");
            foreach (var action in plan.Actions)
            {
                context.Out.WriteLine(Format(action));
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    internal static string Format(IpcPlannedAction action)
    {
        var line = action.Action == "restart" && action.Changed.Count > 0
            ? $"  restart {action.Service} (changed: {string.Join(", ", action.Changed)})"
            : $"  {action.Action} {action.Service}";
        return action.Reason is { } reason ? $"{line} [{reason}]" : line;
    }
}
