using System.Security.Cryptography;
using System.Text;
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

    /// <summary>
    /// The keys whose values differ between <paramref name="before"/> and <paramref name="after"/> (set, changed or
    /// removed), each once: the new unit's keys in file order, then those it no longer has.
    /// </summary>
    public static IReadOnlyList<string> ChangedKeys(UnitFile before, UnitFile after)
    {
        var changed = new List<string>();
        void Add(string key)
        {
            if (!changed.Contains(key, StringComparer.Ordinal))
            {
                changed.Add(key);
            }
        }

        foreach (var (section, keys) in after.Sections)
        {
            before.Sections.TryGetValue(section, out var old);
            foreach (var (key, values) in keys)
            {
                if (old is null || !old.TryGetValue(key, out var oldValues) || !values.SequenceEqual(oldValues, StringComparer.Ordinal))
                {
                    Add(key);
                }
            }
        }

        foreach (var (section, keys) in before.Sections)
        {
            after.Sections.TryGetValue(section, out var now);
            foreach (var key in keys.Keys.Where(k => now is null || !now.ContainsKey(k)))
            {
                Add(key);
            }
        }

        return changed;
    }

    /// <summary>
    /// A digest of what <see cref="Same"/> compares (name, sections, keys, values in order), independent of the order of
    /// sections and keys in the file: equal digests mean the same service definition. Kept in the state with a running
    /// process, so a later daemon can tell whether the unit changed since that process started.
    /// </summary>
    public static string Digest(UnitFile unit)
    {
        var text = new StringBuilder();
        Append(text, unit.Name);
        foreach (var (section, keys) in unit.Sections.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            Append(text, "[" + section);
            foreach (var (key, values) in keys.OrderBy(k => k.Key, StringComparer.Ordinal))
            {
                Append(text, key);
                text.Append(values.Count).Append(':');
                foreach (var value in values)
                {
                    Append(text, value);
                }
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));

        // Length-prefixed, so no value can be confused with a neighbour's.
        static void Append(StringBuilder text, string part) => text.Append(part.Length).Append(':').Append(part);
    }

    /// <summary>
    /// The unit written back as a unit file: every section and assignment in order, as <see cref="UnitFile.Sections"/>
    /// keeps them. Parsing it gives the same definition (<see cref="Same"/>), which is what the state's snapshot of the
    /// applied units needs (comments and line breaks are not kept).
    /// </summary>
    public static string Render(UnitFile unit)
    {
        var text = new StringBuilder();
        foreach (var (section, keys) in unit.Sections)
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append('[').Append(section).Append("]\n");
            foreach (var (key, values) in keys)
            {
                foreach (var value in values)
                {
                    text.Append(key).Append('=').Append(value).Append('\n');
                }
            }
        }

        return text.ToString();
    }
}
