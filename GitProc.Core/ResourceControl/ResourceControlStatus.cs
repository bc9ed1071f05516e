namespace GitProc.ResourceControl;

/// <summary>Whether and how service limits are enforced on this host.</summary>
/// <param name="Backend">The cgroup hierarchy in use, or <see cref="ResourceControlBackend.None"/>.</param>
/// <param name="Reason">
/// Why limits are not enforced (for example <c>cgroups not writable (not root): limits are not enforced</c>);
/// <see langword="null"/> when they are.
/// </param>
/// <param name="RootDirectories">
/// The directories of the root cgroup under which services get theirs: one for v2, one per controller
/// hierarchy for v1; empty when not enforced.
/// </param>
public sealed record ResourceControlStatus(ResourceControlBackend Backend, string? Reason, IReadOnlyList<string> RootDirectories)
{
    /// <summary>Limits are enforced: a cgroup backend is in use.</summary>
    public bool Enforced => Backend != ResourceControlBackend.None;

    /// <inheritdoc />
    public override string ToString() => Enforced
        ? $"cgroup {Backend.ToString().ToLowerInvariant()} at {string.Join(", ", RootDirectories)}"
        : Reason ?? "limits are not enforced";
}
