namespace GitProc.Ipc;

/// <summary>
/// Something in the applied commit that GitProc ignores (a key it does not act on or in the wrong section, a dependency
/// on a unit that is not a service): the <c>warnings</c> of <c>sync</c> and <c>status</c>.
/// </summary>
public sealed record IpcWarning
{
    /// <summary>The unit file, such as <c>web.service</c>.</summary>
    public string File { get; init; } = "";

    /// <summary>The 1-based line, when known.</summary>
    public int? Line { get; init; }

    /// <summary>The key concerned, if any.</summary>
    public string? Key { get; init; }

    /// <summary>What was found, as a sentence.</summary>
    public string Message { get; init; } = "";

    /// <summary><c>FILE:LINE: KEY: message</c>, as <c>gitproc check</c> prints findings (without the parts not known).</summary>
    public override string ToString() =>
        (Line is { } line ? $"{File}:{line}: " : $"{File}: ") + (Key is null ? Message : $"{Key}: {Message}");
}
