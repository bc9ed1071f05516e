using GitProc.Git;
using Microsoft.Extensions.Logging;

namespace GitProc.Reconciliation;

/// <summary>
/// The watch loop's branch watch, set up when the repository allows: a daemon that runs what its state recorded while
/// its repository is missing must not end because the repository cannot be watched yet. Until it is, the loop polls.
/// </summary>
internal sealed class RetryingBranchWatch(IGitIntegration git, Action onChanged, ILogger logger) : IDisposable
{
    private IDisposable? _watch;
    private string? _lastError;

    /// <summary>Whether the branch is watched now.</summary>
    public bool IsStarted => _watch is not null;

    /// <summary>Starts watching if not yet watching; a failure is logged once per distinct message, never thrown.</summary>
    public void EnsureStarted()
    {
        if (_watch is not null)
        {
            return;
        }

        try
        {
            _watch = git.WatchBranch(onChanged);
            _lastError = null;
        }
        catch (GitProcException ex)
        {
            // A repository that cannot be opened at all is reported by the loop's read of the branch.
            if (ex.Message != _lastError && ex is not GitException { RepositoryUnavailable: true })
            {
                logger.WatchFailed(ex.Message);
                _lastError = ex.Message;
            }
        }
    }

    public void Dispose() => _watch?.Dispose();
}
