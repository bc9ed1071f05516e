using System.Text.Json;
using GitProc.Metrics;
using GitProc.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GitProc.Delivery;

/// <summary>
/// The default <see cref="IDeliveryHistory"/>: a JSON file beside the state file (<c>state.history.json</c> for
/// <c>state.json</c>), written atomically like it. An unreadable file is moved aside and reported, and the history
/// starts empty.
/// </summary>
internal sealed class DeliveryHistory : IDeliveryHistory
{
    private readonly string _path;
    private readonly int _limit;
    private readonly ILogger<DeliveryHistory> _logger;
    private readonly GitProcMetrics? _metrics;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _sync = new();
    private List<DeliveryRecord> _records = [];
    private bool _loaded;

    public DeliveryHistory(IOptions<PathOptions> paths, IOptions<DeliveryOptions> options, ILogger<DeliveryHistory>? logger = null, GitProcMetrics? metrics = null)
    {
        var state = Path.GetFullPath(paths.Value.StatePath);
        _path = Path.ChangeExtension(state, ".history.json");
        _limit = Math.Max(1, options.Value.HistoryLimit);
        _logger = logger ?? NullLogger<DeliveryHistory>.Instance;
        _metrics = metrics;
    }

    /// <summary>The history file.</summary>
    public string FilePath => _path;

    public IReadOnlyList<DeliveryRecord> Records
    {
        get
        {
            lock (_sync)
            {
                return [.. _records];
            }
        }
    }

    public DeliveryRecord? Newest
    {
        get
        {
            lock (_sync)
            {
                return _records.Count > 0 ? _records[0] : null;
            }
        }
    }

    public DeliveryRecord? Find(string commit)
    {
        lock (_sync)
        {
            return _records.Find(r => r.Commit == commit);
        }
    }

    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loaded)
            {
                return;
            }

            _loaded = true;
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(_path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return;
            }

            try
            {
                var records = JsonSerializer.Deserialize(bytes, DeliveryJsonContext.Default.ListDeliveryRecord) ?? [];
                lock (_sync)
                {
                    _records = [.. records.Where(r => r is not null).Take(_limit)];
                }
            }
            catch (JsonException ex)
            {
                var aside = _path + ".corrupt-" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                File.Move(_path, aside, overwrite: true);
                Log.HistoryCorrupt(_logger, _path, ex.Message, aside);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task RecordAsync(DeliveryRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return ChangeAsync(
            records =>
            {
                CountResult(records.Find(r => r.Commit == record.Commit), record);
                records.RemoveAll(r => r.Commit == record.Commit);
                records.Insert(0, record);
                if (records.Count > _limit)
                {
                    records.RemoveRange(_limit, records.Count - _limit);
                }
            },
            cancellationToken);
    }

    public Task UpdateAsync(string commit, Func<DeliveryRecord, DeliveryRecord> update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        return ChangeAsync(
            records =>
            {
                var index = records.FindIndex(r => r.Commit == commit);
                if (index >= 0)
                {
                    var updated = update(records[index]);
                    CountResult(records[index], updated);
                    records[index] = updated;
                }
            },
            cancellationToken);
    }

    /// <summary>Counts a commit reaching a result, once: recording the same rejection again counts nothing.</summary>
    private void CountResult(DeliveryRecord? before, DeliveryRecord after)
    {
        if (before?.Result != after.Result)
        {
            _metrics?.CommitResult(after.Result);
        }
    }

    private async Task ChangeAsync(Action<List<DeliveryRecord>> change, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            List<DeliveryRecord> snapshot;
            lock (_sync)
            {
                change(_records);
                snapshot = [.. _records];
            }

            try
            {
                await AtomicFile.WriteJsonAsync(_path, snapshot, DeliveryJsonContext.Default.ListDeliveryRecord, _logger, cancellationToken).ConfigureAwait(false);
            }
            catch (StateFileException ex)
            {
                // The history is a record, not a command's acknowledgement: kept in memory and written with the next change.
                Log.HistorySaveFailed(_logger, ex.Message);
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
