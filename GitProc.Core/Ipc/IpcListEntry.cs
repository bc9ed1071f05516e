namespace GitProc.Ipc;

/// <summary>One service in the data of <c>list</c>: <c>{"name", "status", "pid"}</c>, then more detail.</summary>
public sealed record IpcListEntry
{
    /// <summary>The service name.</summary>
    public string Name { get; init; } = "";

    /// <summary><c>running</c>, <c>stopped</c> or <c>failed</c>.</summary>
    public string Status { get; init; } = "";

    /// <summary>More detail on the status, as <c>status</c> gives it: <c>condition</c> for a service that does not run on this host, say.</summary>
    public string? SubState { get; init; }

    /// <summary>The main process's pid while running.</summary>
    public int? Pid { get; init; }

    /// <summary>The last exit code, when known (the CLI shows it for failed services).</summary>
    public int? LastExitCode { get; init; }

    /// <summary>The service's last <c>STATUS=</c> notification (<c>Type=notify</c>), if any.</summary>
    public string? StatusText { get; init; }
}
