using GitProc.State;
using Microsoft.Extensions.Logging;

namespace GitProc.Supervision;

/// <summary>
/// Persists the supervisor's state with group commit: every caller that asks for a save before a write begins is
/// served by that one write, whose snapshot is taken when it begins (so it holds every change those callers made).
/// 500 services starting at once cost a handful of atomic writes, not 500, and an operator's command waits for one
/// write at most while a write is under way. A failed write fails the callers that wait for it and is remembered
/// (<see cref="LastError"/>) until a write succeeds; it never takes the daemon down.
/// </summary>
internal sealed class StateSaver : IAsyncDisposable
{
    private readonly IStateManager _stateManager;
    private readonly Func<SupervisorState> _snapshot;
    private readonly Func<bool> _mayWrite;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    // The next write's completion, while that write has not begun; null when none is pending.
    private TaskCompletionSource? _pending;
    private StateSaveError? _lastError;

    /// <param name="stateManager">Where the state is written.</param>
    /// <param name="snapshot">Takes the state to write.</param>
    /// <param name="mayWrite">Whether there is anything to save yet; saves are skipped while it is false.</param>
    /// <param name="time">Stamps failures.</param>
    /// <param name="logger">Logs failed saves.</param>
    public StateSaver(IStateManager stateManager, Func<SupervisorState> snapshot, Func<bool> mayWrite, TimeProvider time, ILogger logger)
    {
        _stateManager = stateManager;
        _snapshot = snapshot;
        _mayWrite = mayWrite;
        _time = time;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Why the last write failed, while no write has succeeded since; <see langword="null"/> when saved.</summary>
    public StateSaveError? LastError
    {
        get
        {
            lock (_lock)
            {
                return _lastError;
            }
        }
    }

    /// <summary>Asks for a save soon; returns at once.</summary>
    public void Request() => _ = Enqueue();

    /// <summary>
    /// Completes once a write that began after this call is on disk, so it holds every change made before the call.
    /// </summary>
    /// <exception cref="StateFileException">That write failed (disk full, read-only); the file is unchanged.</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default) =>
        _mayWrite() ? Enqueue().WaitAsync(cancellationToken) : Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);

        // The last word: whatever changed while the loop was ending, and whoever still waits for it.
        TaskCompletionSource? left;
        lock (_lock)
        {
            left = _pending;
            _pending = null;
        }

        if (_mayWrite())
        {
            try
            {
                await WriteAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Logged by WriteAsync; the waiters hear of it, and nothing is left to retry it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                left?.TrySetException(ex);
            }
        }

        left?.TrySetResult();

        _stopping.Dispose();
        _wake.Dispose();
    }

    private Task Enqueue()
    {
        TaskCompletionSource pending;
        var wake = false;
        lock (_lock)
        {
            if (_pending is null)
            {
                _pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wake = true;
            }

            pending = _pending;
        }

        if (wake)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already awake.
            }
            catch (ObjectDisposedException)
            {
                pending.TrySetException(new ObjectDisposedException(nameof(StateSaver)));
            }
        }

        return pending.Task;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            try
            {
                await _wake.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            TaskCompletionSource? batch;
            lock (_lock)
            {
                batch = _pending;
                _pending = null;
            }

            if (batch is null)
            {
                continue;
            }

            try
            {
                if (_mayWrite())
                {
                    await WriteAsync().ConfigureAwait(false);
                }

                batch.TrySetResult();
            }
#pragma warning disable CA1031 // A failed save must not end the loop: its waiters hear of it, the next change retries.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                batch.TrySetException(ex);
            }
        }
    }

    private async Task WriteAsync()
    {
        try
        {
            await _stateManager.SaveAsync(_snapshot()).ConfigureAwait(false);
            lock (_lock)
            {
                _lastError = null;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.StateSaveFailed(ex);
            lock (_lock)
            {
                _lastError = new StateSaveError(ex.Message, _lastError?.Since ?? _time.GetUtcNow());
            }

            throw;
        }
    }
}
