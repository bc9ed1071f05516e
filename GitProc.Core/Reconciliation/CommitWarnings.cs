using System.Text;
using GitProc.Dependencies;
using GitProc.Git;
using GitProc.UnitFiles;

namespace GitProc.Reconciliation;

/// <summary>
/// Everything a valid commit has that GitProc ignores — keys it does not act on or that sit in the wrong section, and
/// dependencies on units that are not services — as one list of <c>FILE:LINE: KEY: message</c> findings, so that
/// <c>sync</c>, <c>status</c> and the log show them in the same form as <c>gitproc check</c>.
/// </summary>
internal static class CommitWarnings
{
    private static readonly string[] DependencyKeys = ["After", "Requires", "Wants"];

    /// <summary>The warnings of <paramref name="units"/> (read from <paramref name="commit"/>), by file, then line.</summary>
    /// <param name="git">Reads a unit's text again to find the line of a dependency warning (rare, so not kept for every apply).</param>
    /// <param name="commit">The commit the units were read from.</param>
    /// <param name="units">The commit's units, as parsed.</param>
    /// <param name="dependencyWarnings">What the dependency resolver ignored.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    public static async Task<IReadOnlyList<UnitFileWarning>> CollectAsync(
        IGitIntegration git,
        string commit,
        IReadOnlyList<UnitFile> units,
        IReadOnlyList<DependencyDiagnostic> dependencyWarnings,
        CancellationToken cancellationToken)
    {
        var warnings = new List<UnitFileWarning>();
        foreach (var unit in units)
        {
            warnings.AddRange(unit.Warnings);
        }

        var texts = new Dictionary<string, string[]?>(StringComparer.Ordinal);
        foreach (var warning in dependencyWarnings)
        {
            var file = units.FirstOrDefault(u => u.Name == warning.Service)?.FileName ?? warning.Service + ".service";
            if (!texts.TryGetValue(file, out var lines))
            {
                lines = await ReadLinesAsync(git, commit, file, cancellationToken).ConfigureAwait(false);
                texts[file] = lines;
            }

            var (line, key) = Locate(lines, warning);
            warnings.Add(new UnitFileWarning(file, line, key, warning.Message));
        }

        return [.. warnings.OrderBy(w => w.FileName, StringComparer.Ordinal).ThenBy(w => w.Line)];
    }

    /// <summary>The warnings about one service's unit file.</summary>
    public static IReadOnlyList<UnitFileWarning> Of(IReadOnlyList<UnitFileWarning> warnings, string service)
    {
        var file = service + ".service";
        return [.. warnings.Where(w => w.FileName == file)];
    }

    private static async Task<string[]?> ReadLinesAsync(IGitIntegration git, string commit, string file, CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await git.ReadFileAsync(commit, file, cancellationToken).ConfigureAwait(false);
            return Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF').Split('\n');
        }
        catch (GitException)
        {
            // The warning is still worth showing without its line.
            return null;
        }
    }

    /// <summary>
    /// The line (1-based; 0 when not found) and key of the first assignment that names the dependency. A continued line
    /// counts as the line it starts on.
    /// </summary>
    private static (int Line, string? Key) Locate(string[]? lines, DependencyDiagnostic warning)
    {
        string[] keys = warning.Kind switch
        {
            DependencyDiagnosticKind.MissingOrderedService => ["After"],
            DependencyDiagnosticKind.MissingWantedService => ["Wants"],
            _ => DependencyKeys,
        };
        var fallbackKey = keys.Length == 1 ? keys[0] : null;
        if (lines is null || warning.Dependency is not { } dependency)
        {
            return (0, fallbackKey);
        }

        for (var start = 0; start < lines.Length; start++)
        {
            var first = start;
            var text = lines[start].TrimEnd('\r');
            while (text.EndsWith('\\') && start + 1 < lines.Length)
            {
                text = text[..^1] + " " + lines[++start].TrimEnd('\r');
            }

            var equals = text.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                continue;
            }

            var key = text[..equals].Trim();
            if (Array.IndexOf(keys, key) < 0)
            {
                continue;
            }

            foreach (var word in text[(equals + 1)..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            {
                var name = word.Trim('"', '\'');
                if (name == dependency || name == dependency + ".service")
                {
                    return (first + 1, key);
                }
            }
        }

        return (0, fallbackKey);
    }
}
