namespace GitProc.UnitFiles;

/// <summary>How strictly unit files are read (<c>GitProc:UnitFiles</c> in configuration).</summary>
public sealed class UnitFileOptions
{
    /// <summary>
    /// What a key that is neither a systemd key nor a GitProc key (and not an <c>X-</c> key) is, and likewise a section
    /// systemd does not know or a key GitProc acts on written in the wrong section. Default
    /// <see cref="UnknownKeyHandling.Error"/>; <see cref="UnknownKeyHandling.Warn"/> keeps such keys with a warning.
    /// Real systemd keys GitProc does not act on are warnings either way.
    /// </summary>
    public UnknownKeyHandling UnknownKeys { get; set; } = UnknownKeyHandling.Error;
}
