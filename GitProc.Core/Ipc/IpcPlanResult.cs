namespace GitProc.Ipc;

/// <summary>
/// The data of a successful <c>plan</c>: what applying the commit would do, service by service, or why it would be
/// rejected (<c>errors</c>, then <c>actions</c> is empty).
/// </summary>
public sealed record IpcPlanResult
{
    /// <summary>The commit planned (full hash).</summary>
    public string Commit { get; init; } = "";

    /// <summary>The host planned for: the one asked for (<c>args.host</c>), else the daemon's own <c>HostName</c>.</summary>
    public string? Host { get; init; }

    /// <summary>One entry per service, ordered by name.</summary>
    public IReadOnlyList<IpcPlannedAction> Actions { get; init; } = [];

    /// <summary>Why the commit would be rejected; empty when it would apply.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];
}
