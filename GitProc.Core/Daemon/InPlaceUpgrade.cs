using System.Collections;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using GitProc.Ipc;
using GitProc.Processes;
using GitProc.ResourceControl;
using GitProc.State;
using GitProc.Supervision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Daemon;

/// <summary>
/// The default <see cref="IInPlaceUpgrade"/>: the supervisor hands its services over (stops acting, leaves their exits
/// and output in the kernel, saves the state), the IPC server stops accepting but keeps its listening socket, and the
/// process re-executes its program with that socket and its two locks kept open. The new image takes them over and
/// adopts every service as its parent.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InPlaceUpgrade(
    ISupervisor supervisor,
    IIpcServer ipc,
    IDaemonStartup startup,
    IResourceController resources,
    IOptions<InPlaceUpgradeOptions> options,
    IEnumerable<ILoggerProvider> loggerProviders,
    ILogger<InPlaceUpgrade>? logger = null) : IInPlaceUpgrade
{
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    private int _running;

    public bool IsAvailable => !string.IsNullOrEmpty(options.Value.Executable);

    public void Request()
    {
        if (!IsAvailable)
        {
            Log.UpgradeUnavailable(_logger);
            return;
        }

        if (Interlocked.Exchange(ref _running, 1) == 0)
        {
            _ = Task.Run(RunAsync);
        }
    }

    private async Task RunAsync()
    {
        var executable = options.Value.Executable!;
        if (!File.Exists(executable))
        {
            Log.UpgradeRefused(_logger, $"{executable} does not exist");
            Volatile.Write(ref _running, 0);
            return;
        }

        try
        {
            await supervisor.HandOverAsync().ConfigureAwait(false);
        }
        catch (GitProcException ex)
        {
            // Nothing changed: the supervisor refuses before it stops acting.
            Log.UpgradeRefused(_logger, ex.Message);
            Volatile.Write(ref _running, 0);
            return;
        }

        // No way back from here: the supervisor no longer acts.
        var handOver = new Dictionary<string, SafeHandle>(StringComparer.Ordinal)
        {
            [IpcServer.InheritedListenerName] = await ipc.DetachListenerAsync().ConfigureAwait(false),
        };
        if (startup is DaemonStartup { State: { } stateLock })
        {
            handOver[StateLock.InheritedName] = stateLock.Handle;
        }

        if (resources is ResourceController { RootLock: { } rootLock })
        {
            handOver[CgroupRootLock.InheritedName] = rootLock.Handle;
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            environment[(string)variable.Key] = (string?)variable.Value ?? "";
        }

        var arguments = options.Value.Arguments.Count > 0 ? [.. options.Value.Arguments] : SelfExec.CurrentArguments();
        Log.Reexecuting(_logger, executable);

        // Loggers write from a queue on their own thread (the console's does): disposing them writes out what is
        // queued, which execve would otherwise drop.
        foreach (var provider in loggerProviders)
        {
            provider.Dispose();
        }

        try
        {
            SelfExec.Execute(executable, arguments, environment, handOver);
        }
        catch (GitProcException ex)
        {
            // The loggers are gone: straight to stderr, where the daemon's log goes.
            await Console.Error.WriteLineAsync(
                $"gitproc: the in-place upgrade failed to re-execute ({ex.Message}); exiting with 1 and leaving every service running for the next daemon to take over").ConfigureAwait(false);
            Environment.Exit(1);
        }
    }
}
