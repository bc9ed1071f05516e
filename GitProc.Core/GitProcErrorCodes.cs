using GitProc.Dependencies;
using GitProc.Git;
using GitProc.Ipc;
using GitProc.Locking;
using GitProc.Processes;
using GitProc.Reconciliation;
using GitProc.State;
using GitProc.Supervision;
using GitProc.UnitFiles;
using GitProc.Validation;

namespace GitProc;

/// <summary>
/// The stable error codes: the <c>code</c> of an IPC error response (<c>{"status":"error","error":"...","code":"..."}</c>)
/// and of the CLI's <c>--json</c> error object (<c>docs/json.md</c>). A code names a condition, so scripts branch on
/// it rather than on the message, whose wording may change; new codes may be added, existing ones keep their meaning.
/// </summary>
public static class GitProcErrorCodes
{
    /// <summary>The command line is invalid (unknown command or option, missing or bad argument): exit code 2.</summary>
    public const string Usage = "usage";

    /// <summary>The daemon refused the request as malformed: invalid JSON, unknown command, a missing or invalid field (a service name that is not a valid unit name, a negative count).</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>No daemon answers on the socket, or it closed the connection before answering.</summary>
    public const string DaemonUnreachable = "daemon_unreachable";

    /// <summary>The named service is not in the applied desired state.</summary>
    public const string ServiceNotFound = "service_not_found";

    /// <summary><c>start</c> of a service that is already active (running, or waiting to restart or for the daemon's resources).</summary>
    public const string AlreadyRunning = "already_running";

    /// <summary><c>stop</c> of a service that is not running.</summary>
    public const string NotRunning = "not_running";

    /// <summary>A start or restart failed: the process could not be started, exited, missed its readiness, or a required dependency failed.</summary>
    public const string StartFailed = "start_failed";

    /// <summary><c>start</c> or <c>restart</c> of a service whose <c>ConditionHost=</c> is not met on this host: it does not run here.</summary>
    public const string ConditionFailed = "condition_failed";

    /// <summary>The state could not be saved or read, so the operator's choice was not applied.</summary>
    public const string StateError = "state_error";

    /// <summary><c>logs</c>: the service has no stored lines.</summary>
    public const string NoLogs = "no_logs";

    /// <summary>A revision names no commit of the repository (unknown, ambiguous, or not a commit).</summary>
    public const string CommitNotFound = "commit_not_found";

    /// <summary>
    /// A commit's units are invalid (a parse error, a dependency cycle, a missing <c>Requires=</c>), or its signature is not
    /// trusted (<c>Git:RequireSignedCommits</c>): nothing of it was applied.
    /// </summary>
    public const string CommitRejected = "commit_rejected";

    /// <summary>Any other Git failure: the repository is missing or unreadable, a fetch failed, the branch moved meanwhile.</summary>
    public const string GitError = "git_error";

    /// <summary><c>init</c>: a Git repository already exists at the path.</summary>
    public const string RepositoryExists = "repository_exists";

    /// <summary><c>daemon</c>: another daemon holds the state file's lock, the cgroup root or the socket.</summary>
    public const string LockHeld = "lock_held";

    /// <summary>The settings are invalid, or the <c>--config</c> file cannot be read.</summary>
    public const string ConfigError = "config_error";

    /// <summary>
    /// The command is not available here (the daemon off Linux, <c>reexec</c> outside <c>gitproc daemon</c>, <c>rollback</c>
    /// while <c>Git:RequireSignedCommits</c> is on).
    /// </summary>
    public const string NotSupported = "not_supported";

    /// <summary>The daemon ended a stream: it stopped, or dropped a subscriber that fell behind.</summary>
    public const string StreamClosed = "stream_closed";

    /// <summary>The daemon closed an idle connection (or one over its connection limit); reconnecting is enough.</summary>
    public const string ConnectionClosed = "connection_closed";

    /// <summary>Any other runtime error: the message says what.</summary>
    public const string Failed = "failed";

    /// <summary>An unexpected failure (a bug): the message names the exception.</summary>
    public const string Internal = "internal";

    /// <summary>The code of an error: <see cref="GitProcException.Code"/>, or <see cref="Internal"/> for any other exception.</summary>
    /// <param name="exception">The error.</param>
    /// <returns>Its code.</returns>
    public static string Of(Exception exception) => exception is GitProcException known ? known.Code : Internal;

    /// <summary>What an exception's type means, where the exception was not given a code.</summary>
    internal static string ForType(GitProcException exception) => exception switch
    {
        DaemonUnreachableException => DaemonUnreachable,
        ServiceNotFoundException => ServiceNotFound,
        CommitRejectedException or UnitCheckException or UnitFileParseException or DependencyException => CommitRejected,
        GitException => GitError,
        LockHeldException or IpcSocketInUseException => LockHeld,
        StateFileException => StateError,
        ProcessStartException => StartFailed,
        _ => Failed,
    };
}
