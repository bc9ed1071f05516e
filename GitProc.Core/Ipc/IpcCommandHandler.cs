using System.Text;
using GitProc.Delivery;
using GitProc.Events;
using GitProc.Logs;
using GitProc.Reconciliation;
using GitProc.State;
using GitProc.Supervision;
using GitProc.UnitFiles;
using GitProc.Git;

namespace GitProc.Ipc;

/// <summary>
/// Turns one parsed request into a reply by calling the supervisor, the reconciler or the log store. Validates every
/// field first; exceptions of the components propagate to the connection, which maps them to error responses.
/// </summary>
/// <param name="supervisor">The services.</param>
/// <param name="reconciler">The units repository's applied commit, for <c>sync</c>, <c>rollback</c> and <c>status</c>.</param>
/// <param name="logs">The services' logs.</param>
/// <param name="history">The per-commit delivery records, for <c>history</c>.</param>
/// <param name="repository">The units repository, named by <c>sync</c>'s reply.</param>
/// <param name="events">The event stream, for <c>subscribe</c>; <see langword="null"/> where none is registered.</param>
internal sealed class IpcCommandHandler(
    ISupervisor supervisor, IReconciler reconciler, IServiceLogs logs, IDeliveryHistory history, string repository, IEventStream? events = null)
{
    /// <summary>Starts an in-place upgrade; <see langword="null"/> where the host cannot re-execute itself.</summary>
    public Action? Reexec { get; set; }

    private static readonly IpcJsonContext Json = IpcJsonContext.Default;

    public ValueTask<IpcReply> HandleAsync(IpcRequest request, CancellationToken cancellationToken)
    {
        string? service;
        IpcReply error;
        switch (request.Command)
        {
            case null:
                return new(IpcReply.Failure("missing field: command", GitProcErrorCodes.InvalidRequest));

            case IpcCommands.Status:
                if (!TryGetService(request, out service, out error))
                {
                    return new(error);
                }

                return StatusAsync(service, cancellationToken);

            case IpcCommands.List:
                return new(IpcReply.Success(
                    ToResult(supervisor.ListServices()) with { RolledBack = reconciler.Status?.LastRollback is { } rollback ? Describe(rollback) : null },
                    Json.IpcListResult));

            case IpcCommands.Start:
                return TryGetService(request, out service, out error) ? StartAsync(service, cancellationToken) : new(error);

            case IpcCommands.Stop:
                return TryGetService(request, out service, out error) ? StopAsync(service, cancellationToken) : new(error);

            case IpcCommands.Restart:
                return TryGetService(request, out service, out error) ? RestartAsync(service, cancellationToken) : new(error);

            case IpcCommands.Reload:
                return TryGetService(request, out service, out error) ? ReloadAsync(service, cancellationToken) : new(error);

            case IpcCommands.Logs:
                return TryGetService(request, out service, out error) ? LogsAsync(service, request.Args, cancellationToken) : new(error);

            case IpcCommands.Sync:
                return SyncAsync(request.Args?.Wait == true, cancellationToken);

            case IpcCommands.Plan:
                return TryGetHost(request.Args, out var host, out error) ? PlanAsync(request.Args?.Commit, host, cancellationToken) : new(error);

            case IpcCommands.History:
                return request.Args?.Limit is < 0
                    ? new(IpcReply.Failure($"invalid value for args.limit: {request.Args.Limit} (must be 0 or more)", GitProcErrorCodes.InvalidRequest))
                    : HistoryAsync(request.Args?.Limit, cancellationToken);

            case IpcCommands.Reexec:
                return new(Reexec is { } reexec
                    ? IpcReply.Success(new IpcReexecResult { Pid = Environment.ProcessId }, Json.IpcReexecResult) with { AfterSent = reexec }
                    : IpcReply.Failure("reexec is not available: this daemon was not started by 'gitproc daemon' (InPlaceUpgradeOptions.Executable is not set)", GitProcErrorCodes.NotSupported));

            case IpcCommands.Subscribe:
                return new(Subscribe(request));

            case IpcCommands.Rollback:
                var commit = request.Args?.Commit;
                return string.IsNullOrWhiteSpace(commit)
                    ? new(IpcReply.Failure("missing field: args.commit", GitProcErrorCodes.InvalidRequest))
                    : RollbackAsync(commit, cancellationToken);

            default:
                return new(IpcReply.Failure($"unknown command: {request.Command}", GitProcErrorCodes.InvalidRequest));
        }
    }

    /// <summary>The lines appended to a service's log from now on, one reply each, each line ending with <c>\n</c>.</summary>
    private async IAsyncEnumerable<IpcReply> FollowAsync(
        string service,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var line in logs.FollowAsync(service, cancellationToken).ConfigureAwait(false))
        {
            yield return IpcReply.Success(new IpcLogsResult { Logs = line + "\n" }, Json.IpcLogsResult);
        }
    }

    /// <summary>
    /// Subscribes before answering, so every event after the client's success line reaches it; the connection disposes
    /// the subscription when the stream ends however it ends.
    /// </summary>
    private IpcReply Subscribe(IpcRequest request)
    {
        if (events is null)
        {
            return IpcReply.Failure("subscribe is not available: this daemon has no event stream (IEventStream is not registered)", GitProcErrorCodes.NotSupported);
        }

        var service = request.Service;
        if (service is not null)
        {
            if (!TryGetService(request, out service, out var error))
            {
                return error;
            }

            // An unknown name is an error like for every other command, not a silent empty stream.
            _ = supervisor.GetStatus(service);
        }

        var types = request.Args?.Types is { Count: > 0 } t ? t : null;
        if (types is not null && EventFilter.FindUnknownType(types) is { } unknown)
        {
            return IpcReply.Failure($"unknown event type in args.types: {unknown} (known: {string.Join(", ", EventTypes.All)}, or a family such as commit)", GitProcErrorCodes.InvalidRequest);
        }

        var subscription = events.Subscribe(new EventFilter(service, types));
        var result = new IpcSubscribeResult { Service = service, Types = types, Buffer = events.SubscriberBuffer };
        return IpcReply.Success(result, Json.IpcSubscribeResult, token => StreamEventsAsync(subscription, token)) with
        {
            StreamResource = subscription,
            StreamAbandoned = subscription.Dropped,
        };
    }

    /// <summary>Each event as its own JSON line; if the subscriber was dropped, last an error response saying why.</summary>
    private static async IAsyncEnumerable<IpcReply> StreamEventsAsync(
        IEventSubscription subscription,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in subscription.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return IpcReply.Raw(e.ToUtf8Json());
        }

        if (subscription.DropReason is { } reason)
        {
            yield return IpcReply.Failure(reason, GitProcErrorCodes.StreamClosed);
        }
    }

    private async ValueTask<IpcReply> StatusAsync(string service, CancellationToken cancellationToken)
    {
        var status = await supervisor.GetStatusAsync(service, cancellationToken).ConfigureAwait(false);
        var result = ToResult(status);

        // A rejected commit or an unreadable repository concerns every service: what runs is not the tip of the branch.
        var reconciling = reconciler.Status;
        if (reconciling is { Rejected: { } rejected })
        {
            result = result with { RejectedCommit = Describe(rejected) };
        }

        if (reconciling?.GitError is { } gitError)
        {
            result = result with { GitError = gitError };
        }

        if (reconciling?.Warnings.TryGetValue(service, out var warnings) == true)
        {
            result = result with { Warnings = warnings };
        }

        if (reconciling is { VerifyingCommit: { } verifying })
        {
            result = result with { VerifyingCommit = verifying, VerifyingUntil = reconciling.VerifyingUntil };
        }

        if (reconciling?.LastRollback is { } rollback)
        {
            result = result with { RolledBackCommit = rollback.Commit, RollbackReason = rollback.RollbackReason };
        }

        if (reconciling?.Fetch is { } fetch)
        {
            result = result with
            {
                Remote = fetch.Remote,
                LastFetch = fetch.LastFetch,
                LastFetchOutcome = fetch.LastOutcome,
                LastFetchError = fetch.LastError,
                LastFetchSuccess = fetch.LastSuccess,
                FetchFailures = fetch.ConsecutiveFailures,
                NextFetch = fetch.NextFetch,
            };
        }

        return IpcReply.Success(result, Json.IpcStatusResult);
    }

    private static string Describe(DeliveryRecord rollback) =>
        $"{CommitText.Short(rollback.Commit)}: {rollback.RollbackReason}" + (rollback.RestoredCommit is { } restored ? $"; running {CommitText.Short(restored)}" : "");


    private static string Describe(RejectedCommit rejected)
    {
        var shortSha = CommitText.Short(rejected.Commit);
        return $"{shortSha}: {rejected.Reason}";
    }

    internal static IpcStatusResult ToResult(ServiceSnapshot status) => new()
    {
        Service = status.Name,
        State = ToText(status.Status),
        Pid = status.Pid,
        StartTime = status.StartTime,
        RestartCount = status.RestartCount,
        LastExitCode = status.LastExitCode,
        SubState = status.SubState,
        UnmetCondition = status.UnmetCondition,
        Description = status.Description,
        ManuallyStopped = status.ManuallyStopped,
        FailureReason = status.FailureReason,
        LastExit = status.LastExit,
        LimitsEnforced = status.LimitsEnforced,
        LimitsNote = status.LimitsNote,
        StatusText = status.StatusText,
        MemoryBytes = status.MemoryBytes,
        CpuPercent = status.CpuPercent is { } cpu ? Math.Round(cpu, 2) : null,
        CpuTimeSeconds = status.CpuTime?.TotalSeconds,
        Tasks = status.TaskCount,
        Health = status.Health?.State.ToString().ToLowerInvariant(),
        HealthError = status.Health?.LastError,
        HealthErrorTime = status.Health?.LastErrorTime,
        StateError = status.StateError,
        StateErrorSince = status.StateErrorSince,
    };

    private static IpcListResult ToResult(IReadOnlyList<ServiceSnapshot> services)
    {
        var entries = new IpcListEntry[services.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var s = services[i];
            entries[i] = new IpcListEntry { Name = s.Name, Status = ToText(s.Status), SubState = s.SubState, Pid = s.Pid, LastExitCode = s.LastExitCode, StatusText = s.StatusText };
        }

        return new IpcListResult { Services = entries };
    }

    /// <summary>A status as users see it: <c>running</c>, <c>stopped</c>, <c>failed</c>.</summary>
    internal static string ToText(ServiceStatus status) => status switch
    {
        ServiceStatus.Running => "running",
        ServiceStatus.Stopped => "stopped",
        ServiceStatus.Failed => "failed",
        _ => status.ToString().ToLowerInvariant(),
    };

    private static bool TryGetService(IpcRequest request, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? service, out IpcReply error)
    {
        service = request.Service;
        if (service is null)
        {
            error = IpcReply.Failure("missing field: service", GitProcErrorCodes.InvalidRequest);
            return false;
        }

        if (!UnitFileParser.IsValidServiceName(service))
        {
            error = IpcReply.Failure($"invalid service name: {service}", GitProcErrorCodes.InvalidRequest);
            service = null;
            return false;
        }

        error = default;
        return true;
    }

    private async ValueTask<IpcReply> StartAsync(string service, CancellationToken cancellationToken)
    {
        var status = await supervisor.StartAsync(service, cancellationToken).ConfigureAwait(false);
        return IpcReply.Success(new IpcStartResult { Pid = status.Pid, Service = status.Name }, Json.IpcStartResult);
    }

    private async ValueTask<IpcReply> RestartAsync(string service, CancellationToken cancellationToken)
    {
        var status = await supervisor.RestartAsync(service, cancellationToken).ConfigureAwait(false);
        return IpcReply.Success(new IpcStartResult { Pid = status.Pid, Service = status.Name }, Json.IpcStartResult);
    }

    private async ValueTask<IpcReply> ReloadAsync(string service, CancellationToken cancellationToken)
    {
        var status = await supervisor.ReloadAsync(service, cancellationToken).ConfigureAwait(false);
        return IpcReply.Success(new IpcStartResult { Pid = status.Pid, Service = status.Name }, Json.IpcStartResult);
    }

    private async ValueTask<IpcReply> StopAsync(string service, CancellationToken cancellationToken)
    {
        var status = await supervisor.StopAsync(service, cancellationToken).ConfigureAwait(false);
        return IpcReply.Success(new IpcStopResult { Service = status.Name }, Json.IpcStopResult);
    }

    private async ValueTask<IpcReply> LogsAsync(string service, IpcRequestArgs? args, CancellationToken cancellationToken)
    {
        var count = args?.Lines ?? IpcCommands.DefaultLogLines;
        if (count < 0)
        {
            return IpcReply.Failure($"invalid value for args.lines: {count} (must be 0 or more)", GitProcErrorCodes.InvalidRequest);
        }

        // An unknown name is an error like for every other command, not an empty log.
        _ = supervisor.GetStatus(service);

        var lines = count == 0 ? [] : await logs.ReadLastLinesAsync(service, count, cancellationToken).ConfigureAwait(false);
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line).Append('\n');
        }

        var result = new IpcLogsResult { Logs = text.ToString() };
        return args?.Follow == true
            ? IpcReply.Success(result, Json.IpcLogsResult, token => FollowAsync(service, token))
            : IpcReply.Success(result, Json.IpcLogsResult);
    }

    private async ValueTask<IpcReply> SyncAsync(bool wait, CancellationToken cancellationToken)
    {
        var result = await reconciler.SyncAsync(cancellationToken).ConfigureAwait(false);
        var changes = result.Changes;
        var verdict = wait && result.Commit.Length > 0
            ? await reconciler.WaitForVerdictAsync(result.Commit, cancellationToken).ConfigureAwait(false)
            : null;
        return IpcReply.Success(
            new IpcSyncResult
            {
                Commit = result.Commit,
                Branch = reconciler.Status?.Branch ?? "",
                Repository = repository,
                Reloaded = result.ReloadedCount,
                Started = changes.Started,
                Restarted = changes.Restarted,
                Stopped = changes.Stopped,
                Warnings = result.Warnings,
                Result = verdict is null ? null : ToText(verdict.Result),
                RollbackReason = verdict?.RollbackReason,
                RestoredCommit = verdict?.RestoredCommit,
            },
            Json.IpcSyncResult);
    }

    /// <summary><c>plan</c>'s <c>args.host</c> and <c>args.machine_id</c>: none (this daemon's host), or a valid host name and id.</summary>
    private static bool TryGetHost(IpcRequestArgs? args, out Targeting.HostIdentity? host, out IpcReply error)
    {
        host = null;
        error = default!;
        if (args?.Host is not { } name)
        {
            if (args?.MachineId is not null)
            {
                error = IpcReply.Failure("args.machine_id needs args.host: it is the machine id of that host", GitProcErrorCodes.InvalidRequest);
                return false;
            }

            return true;
        }

        if (name.Length == 0 || name.Length > 255 || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            error = IpcReply.Failure("invalid value for args.host: a host name has 1 to 255 characters and no spaces", GitProcErrorCodes.InvalidRequest);
            return false;
        }

        string? machineId = null;
        if (args.MachineId is { } id && (machineId = HostPattern.ParseMachineId(id)) is null)
        {
            error = IpcReply.Failure("invalid value for args.machine_id: a machine id is 32 hexadecimal digits, as in /etc/machine-id", GitProcErrorCodes.InvalidRequest);
            return false;
        }

        host = new Targeting.HostIdentity(name, machineId);
        return true;
    }

    private async ValueTask<IpcReply> PlanAsync(string? revision, Targeting.HostIdentity? host, CancellationToken cancellationToken)
    {
        revision = string.IsNullOrWhiteSpace(revision) ? null : revision;
        var plan = host is null
            ? await reconciler.PlanAsync(revision, cancellationToken).ConfigureAwait(false)
            : await reconciler.PlanForHostAsync(revision, host, cancellationToken).ConfigureAwait(false);
        var actions = plan.Plan?.Changes.Select(c => new IpcPlannedAction
        {
            Service = c.Service,
            Action = c.Action.ToString().ToLowerInvariant(),
            Changed = c.ChangedKeys,
            Reason = c.Reason,
        }).ToList() ?? [];
        return IpcReply.Success(new IpcPlanResult { Commit = plan.Commit, Host = plan.Host, Actions = actions, Errors = plan.Errors }, Json.IpcPlanResult);
    }

    private async ValueTask<IpcReply> HistoryAsync(int? limit, CancellationToken cancellationToken)
    {
        await history.LoadAsync(cancellationToken).ConfigureAwait(false);
        var records = history.Records.Take(limit ?? int.MaxValue).Select(ToResult).ToList();
        return IpcReply.Success(new IpcHistoryResult { Records = records }, Json.IpcHistoryResult);
    }

    private static IpcHistoryRecord ToResult(DeliveryRecord record) => new()
    {
        Commit = record.Commit,
        Author = record.Author,
        Subject = record.Subject,
        Received = record.Received,
        Applied = record.Applied,
        Result = ToText(record.Result),
        Started = record.Started,
        Restarted = record.Restarted,
        Stopped = record.Stopped,
        Errors = record.Errors,
        RollbackReason = record.RollbackReason,
        RestoredCommit = record.RestoredCommit,
        Fetched = record.Fetched,
        ReplacedCommit = record.ReplacedCommit,
    };

    /// <summary>A result as users see it: <c>applied</c>, <c>rejected</c>, <c>rolled back</c>, <c>superseded</c>, <c>verifying</c>.</summary>
    internal static string ToText(DeliveryResult result) => result switch
    {
        DeliveryResult.RolledBack => "rolled back",
        _ => result.ToString().ToLowerInvariant(),
    };

    private async ValueTask<IpcReply> RollbackAsync(string commit, CancellationToken cancellationToken)
    {
        var result = await reconciler.RollbackAsync(commit, cancellationToken).ConfigureAwait(false);
        var changes = result.Sync.Changes;
        return IpcReply.Success(
            new IpcRollbackResult
            {
                RestoredCommit = result.RestoredCommit,
                Commit = result.NewCommit,
                Reloaded = result.Sync.ReloadedCount,
                Started = changes.Started,
                Restarted = changes.Restarted,
                Stopped = changes.Stopped,
            },
            Json.IpcRollbackResult);
    }
}
