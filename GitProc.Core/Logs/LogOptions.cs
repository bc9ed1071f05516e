namespace GitProc.Logs;

/// <summary>Service log files.</summary>
public sealed class LogOptions
{
    /// <summary>
    /// A log file is rotated, between two lines, before it would grow past this many bytes. Default 10 MiB.
    /// </summary>
    public long MaxFileBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// How many rotated files (<c>NAME.log.1</c>, the newest, … <c>NAME.log.N</c>) are kept; 0 means the file
    /// starts again empty when it is full. Default 5.
    /// </summary>
    public int MaxFiles { get; set; } = 5;
}
