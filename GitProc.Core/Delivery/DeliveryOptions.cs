namespace GitProc.Delivery;

/// <summary>How an applied commit is verified, rolled back, and remembered.</summary>
public sealed class DeliveryOptions
{
    /// <summary>
    /// How long every service a commit started or restarted has to reach running (and healthy, where it has a health
    /// check) without crash-looping; a commit whose services fail is rolled back. Default 30 seconds.
    /// </summary>
    public TimeSpan VerifyWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether a commit that fails verification is rolled back (the previous definitions put back, the commit never
    /// applied again). Default <see langword="true"/>; when <see langword="false"/> the failure is only recorded.
    /// </summary>
    public bool AutoRollback { get; set; } = true;

    /// <summary>
    /// How many automatic restarts of one service within the verify window make it a crash loop. Default 2 (one crash
    /// may be a hiccup; two in the first seconds of a release are not).
    /// </summary>
    public int CrashLoopRestarts { get; set; } = 2;

    /// <summary>
    /// Whether a commit that removes every unit while services run is applied (stopping them all). Default
    /// <see langword="false"/>: such a commit is rejected, as Argo CD's automated sync refuses to prune everything
    /// unless allowed, since it is far more often a wrong path or branch than a decommissioning.
    /// </summary>
    public bool AllowEmpty { get; set; }

    /// <summary>How many commits the history keeps (newest first). Default 100.</summary>
    public int HistoryLimit { get; set; } = 100;
}
