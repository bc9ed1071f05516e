namespace GitProc.Delivery;

/// <summary>
/// The commits the daemon saw and what became of each (applied, rejected, rolled back, superseded), newest first, kept
/// across daemon restarts: a rolled-back commit is never applied again.
/// </summary>
public interface IDeliveryHistory
{
    /// <summary>The records, newest first (at most <see cref="DeliveryOptions.HistoryLimit"/>).</summary>
    IReadOnlyList<DeliveryRecord> Records { get; }

    /// <summary>The newest record (what <c>status</c> and <c>list</c> show of the last commit), without copying the rest.</summary>
    DeliveryRecord? Newest { get; }

    /// <summary>The record of a commit, if the daemon saw it.</summary>
    /// <param name="commit">The full hash.</param>
    /// <returns>The record, or <see langword="null"/>.</returns>
    DeliveryRecord? Find(string commit);

    /// <summary>Reads the history kept by a previous run (once; later calls do nothing). A missing file is an empty history.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>A task that completes once the history is read.</returns>
    Task LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds a record, or replaces the record of the same commit (which then becomes the newest), and saves.</summary>
    /// <param name="record">The record.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes once saved.</returns>
    Task RecordAsync(DeliveryRecord record, CancellationToken cancellationToken = default);

    /// <summary>Changes the record of a commit in place (its position stays) and saves; does nothing if there is none.</summary>
    /// <param name="commit">The full hash.</param>
    /// <param name="update">The change.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes once saved.</returns>
    Task UpdateAsync(string commit, Func<DeliveryRecord, DeliveryRecord> update, CancellationToken cancellationToken = default);
}
