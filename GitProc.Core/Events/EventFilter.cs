namespace GitProc.Events;

/// <summary>Which events a subscriber receives.</summary>
/// <param name="Service">Only events about this service (events about no service, such as commits, are left out); <see langword="null"/> for all.</param>
/// <param name="Types">
/// Only these types; an entry without a dot (<c>commit</c>) stands for its whole family (<c>commit.*</c>);
/// <see langword="null"/> or empty for all.
/// </param>
public sealed record EventFilter(string? Service = null, IReadOnlyList<string>? Types = null)
{
    /// <summary>Every event.</summary>
    public static EventFilter All { get; } = new();

    /// <summary>Whether <paramref name="e"/> passes the filter.</summary>
    public bool Matches(GitProcEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (Service is not null && !string.Equals(e.Service, Service, StringComparison.Ordinal))
        {
            return false;
        }

        if (Types is not { Count: > 0 } types)
        {
            return true;
        }

        foreach (var type in types)
        {
            if (string.Equals(type, e.Type, StringComparison.Ordinal)
                || (e.Type.Length > type.Length && e.Type[type.Length] == '.' && e.Type.StartsWith(type, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An entry of <paramref name="types"/> that names no type or family, if any.</summary>
    public static string? FindUnknownType(IEnumerable<string> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        foreach (var type in types)
        {
            if (!EventTypes.All.Any(t => t == type || t.StartsWith(type + ".", StringComparison.Ordinal)))
            {
                return type;
            }
        }

        return null;
    }
}
