using System.Globalization;
using System.Runtime.Versioning;
using GitProc.Git;
using GitProc.Logs;
using GitProc.Reconciliation;
using GitProc.State;
using Microsoft.Extensions.Options;

namespace GitProc.Daemon;

/// <summary>
/// What a daemon checks once it holds its state lock and before it touches anything else: that it can
/// write its state and log directories, and that the units repository opens — unless the state holds units a previous
/// run applied, which then run until the repository is back. A daemon that cannot work exits 1 with one line saying
/// why, rather than running with nothing to do, or failing its first save or log line later.
/// </summary>
/// <remarks>
/// Each check applies to GitProc's own component only: an application that registered its own state manager, log
/// store or reconciler owns what those need.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class StartupChecks(
    IGitIntegration git,
    IStateManager state,
    IServiceLogs logs,
    IReconciler reconciler,
    IOptions<PathOptions> options)
{
    /// <exception cref="GitProcException">The daemon cannot work; the message says what and where, in one sentence.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // The repository first: it only reads, so a daemon without one leaves no log directory behind.
        if (reconciler is Reconciler)
        {
            await CheckRepositoryAsync(cancellationToken).ConfigureAwait(false);
        }

        var settings = options.Value;
        if (state is StateManager)
        {
            var statePath = Path.GetFullPath(settings.StatePath);
            var directory = Path.GetDirectoryName(statePath)!;

            // Named like the state manager's temporary files, so that one left by a crash right here is swept with them.
            var probe = string.Create(CultureInfo.InvariantCulture, $"{statePath}.tmp-{Environment.ProcessId}-probe");
            if (ProbeWrite(directory, probe, create: null) is { } error)
            {
                throw new StateFileException(statePath, $"Cannot write the state directory {directory}: {Reason(directory, error)}; give the daemon a directory it can write (--state).", error);
            }
        }

        if (logs is ServiceLogs)
        {
            var directory = Path.GetFullPath(settings.LogDirectory);
            var probe = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $".gitproc-probe-{Environment.ProcessId}"));
            if (ProbeWrite(directory, probe, ServiceLogFile.DirectoryMode) is { } error)
            {
                throw new GitProcException($"Cannot write the log directory {directory}: {Reason(directory, error)}; give the daemon a directory it can write (--log-dir).", error);
            }
        }
    }

    /// <summary>
    /// No repository at start-up is fatal when there is nothing to run: no commit can ever arrive. A repository that
    /// opens is never fatal here, whatever its tip or objects (the reconciler rejects a bad tip, and the last good
    /// commit or the state's copy of it runs).
    /// </summary>
    private async Task CheckRepositoryAsync(CancellationToken cancellationToken)
    {
        try
        {
            _ = await git.GetBranchTipAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (GitException ex) when (ex.RepositoryUnavailable)
        {
            var saved = await state.LoadAsync(cancellationToken).ConfigureAwait(false);
            if (saved.AppliedUnits.Count == 0)
            {
                throw;
            }
        }
        catch (GitException)
        {
            // A repository that opened but cannot be read (a damaged reference or object): the first sync reports it.
        }
    }

    /// <summary>Why a probe failed, in words: .NET's "The file … already exists" for a file in the directory's place misleads.</summary>
    private static string Reason(string directory, Exception error) =>
        File.Exists(directory) ? "it is a file, not a directory" : error.Message.TrimEnd('.');

    // ENOSPC: .NET gives an IOException the errno as its HResult.
    private const int NoSpaceLeft = 28;

    /// <summary>Creates (when missing) the directory and a file in it, then deletes the file; returns why that failed, if it did.</summary>
    private static Exception? ProbeWrite(string directory, string probe, UnixFileMode? create)
    {
        try
        {
            if (create is { } mode)
            {
                Directory.CreateDirectory(directory, mode);
            }
            else
            {
                Directory.CreateDirectory(directory);
            }

            using (new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None))
            {
            }

            File.Delete(probe);
            return null;
        }
        catch (IOException ex) when (ex.HResult == NoSpaceLeft)
        {
            // A full disk is a shortage the daemon degrades through (CONTRACT §9), not a reason not to start.
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex;
        }
    }
}
