using GitProc.Dependencies;
using GitProc.Git;
using GitProc.UnitFiles;

namespace GitProc.Validation;

/// <summary>
/// The default <see cref="IUnitCheck"/>, which the reconciler uses for every commit (and <c>plan</c> and
/// <c>rollback</c> for theirs), so that <c>gitproc check</c> and the daemon never disagree: the configured
/// <see cref="IUnitFileParser"/> on every file, then the <see cref="IDependencyResolver"/>'s graph of the set.
/// </summary>
internal sealed class UnitCheck(IUnitFileParser parser, IGitIntegration git, IDependencyResolver resolver) : IUnitCheck
{
    private const string ServiceSuffix = ".service";
    private const string ValuePrefix = "The value ";

    public UnitCheckResult Check(IEnumerable<UnitSource> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var sources = files.ToList();
        return Run(sources, [.. sources.Select(static s => s.FileName)], [], []);
    }

    public async Task<UnitCheckResult> CheckPathsAsync(IEnumerable<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var sources = new List<UnitSource>();
        var order = new List<string>();
        var errors = new List<UnitDiagnostic>();
        var warnings = new List<UnitDiagnostic>();

        // The same file named twice (a directory and a file in it, say) is one unit, not a duplicate service.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var found = 0;
                foreach (var file in Directory.EnumerateFiles(path, "*" + ServiceSuffix, SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal))
                {
                    // "." lists ./a.service: shown as a.service, the name a commit would give it.
                    var shown = path is "." or "./" ? Path.GetFileName(file) : file;
                    if (!seen.Add(Path.GetFullPath(file)))
                    {
                        continue;
                    }

                    found++;
                    order.Add(shown);
                    if (new FileInfo(file).LinkTarget is not null)
                    {
                        warnings.Add(new UnitDiagnostic(shown, 0, null, "The file is a symbolic link, which GitProc ignores in a commit, so it would not run; commit the unit file itself."));
                        continue;
                    }

                    await ReadAsync(file, shown, sources, errors, cancellationToken).ConfigureAwait(false);
                }

                if (found == 0)
                {
                    order.Add(path);
                    warnings.Add(new UnitDiagnostic(path, 0, null, "The directory has no unit files (NAME.service); a commit of it would stop every service."));
                }
            }
            else if (seen.Add(Path.GetFullPath(path)))
            {
                order.Add(path);
                await ReadAsync(path, path, sources, errors, cancellationToken).ConfigureAwait(false);
            }
        }

        return Run(sources, order, errors, warnings);
    }

    public async Task<UnitCheckResult> CheckCommitAsync(string commit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commit);
        var files = await git.ReadUnitFilesAsync(commit, cancellationToken).ConfigureAwait(false);
        return Check(files.Select(static f => new UnitSource(f.FileName, f.Content)));
    }

    private static async Task ReadAsync(string path, string shown, List<UnitSource> sources, List<UnitDiagnostic> errors, CancellationToken cancellationToken)
    {
        try
        {
            sources.Add(new UnitSource(shown, await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false)));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            errors.Add(new UnitDiagnostic(shown, 0, null, "There is no such file or directory."));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add(new UnitDiagnostic(shown, 0, null, $"The file cannot be read: {ex.Message}"));
        }
    }

    /// <summary>Parses every source, checks the set's dependencies, and orders the findings by file, then line.</summary>
    private UnitCheckResult Run(List<UnitSource> sources, List<string> order, List<UnitDiagnostic> errors, List<UnitDiagnostic> warnings)
    {
        var graph = new List<ServiceDependencies>(sources.Count);
        var units = new List<UnitFile>(sources.Count);
        var owners = new Dictionary<string, (string File, UnitFile? Unit)>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            // The parser names the service by the last segment (and refuses a path that goes up with '..', which is
            // fine for a path given on a command line); the diagnostics show the path as given.
            var fileName = Path.GetFileName(source.FileName);
            UnitFile unit;
            try
            {
                unit = parser.Parse(fileName, source.Content);
            }
            catch (UnitFileParseException ex)
            {
                errors.AddRange(ex.Errors.Select(e => FromParser(source.FileName, e)));
                warnings.AddRange(ex.Warnings.Select(w => new UnitDiagnostic(source.FileName, w.Line, w.Key, w.Message)));

                // The service still exists for its dependents: a Requires= on it is not "missing", only broken.
                if (fileName.EndsWith(ServiceSuffix, StringComparison.Ordinal) && fileName[..^ServiceSuffix.Length] is var name
                    && UnitFileParser.IsValidServiceName(name) && owners.TryAdd(name, (source.FileName, null)))
                {
                    graph.Add(new ServiceDependencies(name));
                }

                continue;
            }

            warnings.AddRange(unit.Warnings.Select(w => new UnitDiagnostic(source.FileName, w.Line, w.Key, w.Message)));
            if (!owners.TryAdd(unit.Name, (source.FileName, unit)))
            {
                errors.Add(new UnitDiagnostic(
                    source.FileName,
                    0,
                    null,
                    $"The service '{unit.Name}' is also defined by {owners[unit.Name].File}; the daemon reads one unit file per service, so keep only one."));
                continue;
            }

            units.Add(unit);
            graph.Add(ServiceDependencies.From(unit));
        }

        var dependencies = resolver.Build(graph).Validation;
        errors.AddRange(dependencies.Errors.Select(d => FromResolver(d, owners)));
        warnings.AddRange(dependencies.Warnings.Select(d => FromResolver(d, owners)));
        return new UnitCheckResult(sources.Count, units.AsReadOnly(), Sort(errors, order), Sort(warnings, order));
    }

    /// <summary>
    /// A parse error with its offending value quoted where the reason reads best: "The value 'lots' is not a memory
    /// size", or the line itself first when the error has no key ("'Restart always': The line is neither …").
    /// </summary>
    private static UnitDiagnostic FromParser(string file, UnitFileError error)
    {
        var key = error.Key is null ? null : SystemdText.ForMessage(error.Key);
        if (error.Value is not { } value)
        {
            return new UnitDiagnostic(file, error.Line, key, error.Reason);
        }

        var shown = $"'{SystemdText.ForMessage(value)}'";
        var message = key is null
            ? $"{shown}: {error.Reason}"
            : error.Reason.StartsWith(ValuePrefix, StringComparison.Ordinal)
                ? $"{ValuePrefix}{shown} {error.Reason[ValuePrefix.Length..]}"
                : $"{error.Reason} (value: {shown})";
        return new UnitDiagnostic(file, error.Line, key, message);
    }

    /// <summary>A dependency finding, placed at the line of the entry at fault in the file of the service that has it.</summary>
    private static UnitDiagnostic FromResolver(DependencyDiagnostic diagnostic, Dictionary<string, (string File, UnitFile? Unit)> owners)
    {
        if (!owners.TryGetValue(diagnostic.Service, out var owner))
        {
            return new UnitDiagnostic(diagnostic.Service + ServiceSuffix, 0, null, diagnostic.Message);
        }

        // A cycle is placed at the entry of its first service that names the next one.
        var (keys, dependency) = diagnostic.Kind switch
        {
            DependencyDiagnosticKind.Cycle => (new[] { "After", "Requires" }, diagnostic.Cycle.Count > 1 ? diagnostic.Cycle[1] : diagnostic.Cycle[0]),
            DependencyDiagnosticKind.MissingRequiredService => (["Requires"], diagnostic.Dependency),
            DependencyDiagnosticKind.MissingOrderedService => (["After"], diagnostic.Dependency),
            DependencyDiagnosticKind.MissingWantedService => (["Wants"], diagnostic.Dependency),
            _ => (diagnostic.Key is { } key ? [key] : ["After", "Requires", "Wants"], diagnostic.Dependency),
        };
        foreach (var key in keys)
        {
            if (dependency is not null && owner.Unit?.DependencyLines.TryGetValue((key, dependency), out var line) == true)
            {
                return new UnitDiagnostic(owner.File, line, key, diagnostic.Message);
            }
        }

        return new UnitDiagnostic(owner.File, 0, keys.Length == 1 ? keys[0] : null, diagnostic.Message);
    }

    private static List<UnitDiagnostic> Sort(List<UnitDiagnostic> diagnostics, List<string> order)
    {
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var file in order)
        {
            rank.TryAdd(file, rank.Count);
        }

        // Stable: findings of one line keep the order they were found in.
        return [.. diagnostics.OrderBy(d => rank.TryGetValue(d.File, out var r) ? r : int.MaxValue).ThenBy(static d => d.Line)];
    }
}
