using System.Threading.Channels;
using GitProc.State;
using Microsoft.Extensions.Logging;

namespace GitProc.Supervision;

/// <summary>
/// Persists the supervisor's state after changes without writing once per change: requests are coalesced, so
/// 500 services starting at once cost a handful of atomic writes, not 500. A failed write is logged and retried
/// on the next change; it never takes the daemon down.
/// </summary>
internal sealed class StateSaver : IAsyncDisposable
{
    private readonly IStateManager _stateManager;
    private readonly Func<SupervisorState> _snapshot;
    private readonly Func<bool> _mayWrite;
    private readonly ILogger _logger;
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Task _loop;

    /// <param name="stateManager">Where the state is written.</param>
    /// <param name="snapshot">Takes the state to write.</param>
    /// <param name="mayWrite">Whether there is anything to save yet; saves are skipped while it is false.</param>
    /// <param name="logger">Logs failed saves.</param>
    public StateSaver(IStateManager stateManager, Func<SupervisorState> snapshot, Func<bool> mayWrite, ILogger logger)
    {
        _stateManager = stateManager;
        _snapshot = snapshot;
        _mayWrite = mayWrite;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Asks for a save soon; returns at once.</summary>
    public void Request() => _requests.Writer.TryWrite(true);

    /// <summary>Saves now, including every change made before the call.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (!_mayWrite())
        {
            return;
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stateManager.SaveAsync(_snapshot(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await FlushAsync().ConfigureAwait(false);
        _writeGate.Dispose();
    }

    private async Task RunAsync()
    {
        while (await _requests.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            _requests.Reader.TryRead(out _);
            try
            {
                await FlushAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A failed save must not end the loop; the next change retries it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _logger.StateSaveFailed(ex);
            }
        }
    }
}
