using GitProc.UnitFiles;

namespace GitProc.Supervision;

/// <summary>Decides whether two parses of a unit describe the same service, so an unchanged unit is left alone.</summary>
internal static class UnitDefinition
{
    /// <summary>Same name and the same sections, keys and values in the same order.</summary>
    public static bool Same(UnitFile a, UnitFile b)
    {
        if (!string.Equals(a.Name, b.Name, StringComparison.Ordinal) || a.Sections.Count != b.Sections.Count)
        {
            return false;
        }

        foreach (var (section, keys) in a.Sections)
        {
            if (!b.Sections.TryGetValue(section, out var otherKeys) || keys.Count != otherKeys.Count)
            {
                return false;
            }

            foreach (var (key, values) in keys)
            {
                if (!otherKeys.TryGetValue(key, out var otherValues) || !values.SequenceEqual(otherValues, StringComparer.Ordinal))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
