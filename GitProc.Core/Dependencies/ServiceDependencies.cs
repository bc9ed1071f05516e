using GitProc.UnitFiles;

namespace GitProc.Dependencies;

/// <summary>
/// One service and the services it names, the input of <see cref="IDependencyResolver.Build"/>: a parsed unit's
/// (<see cref="From"/>), or written by hand.
/// </summary>
/// <param name="Name">The service name (a trailing <c>.service</c> is removed).</param>
public sealed record ServiceDependencies(string Name)
{
    /// <summary>Services to start before this one (pulled in). Default empty.</summary>
    public IReadOnlyList<string> After { get; init; } = [];

    /// <summary>Like <see cref="After"/>, and each must exist. Default empty.</summary>
    public IReadOnlyList<string> Requires { get; init; } = [];

    /// <summary>Services started along with this one, in no particular order relative to it. Default empty.</summary>
    public IReadOnlyList<string> Wants { get; init; } = [];

    /// <summary>A parsed unit's name with its <see cref="UnitFile.After"/>, <see cref="UnitFile.Requires"/> and <see cref="UnitFile.Wants"/>.</summary>
    /// <param name="unit">The unit.</param>
    /// <returns>Its dependencies.</returns>
    public static ServiceDependencies From(UnitFile unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        return new ServiceDependencies(unit.Name) { After = unit.After, Requires = unit.Requires, Wants = unit.Wants };
    }
}
