namespace GitProc.UnitFiles;

/// <summary>What the unit file parser does with a key that is neither a systemd key nor a GitProc key.</summary>
public enum UnknownKeyHandling
{
    /// <summary>
    /// The unit is invalid: the error names file, line and key and suggests the closest known key. A misspelt key
    /// would otherwise silently change what runs (<c>Restrat=always</c> leaves the default restart policy).
    /// </summary>
    Error,

    /// <summary>The key is kept and reported as a warning, as systemd does (its "Unknown key name ..., ignoring").</summary>
    Warn,
}
