using System.Reflection;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using GitProc.Cli;
using GitProc.Core.Tests.EndToEnd;
using GitProc.State;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests;

/// <summary>
/// The package readmes, which are all a NuGet user reads: the GitProc.Core readme's table of the original reference's
/// Python API (a row for every operation, every .NET member it names exists) and its table of components (each an
/// interface <c>AddGitProc</c> registers), C# snippets that import what they use, and the CLI readme's table of commands
/// (every command of <c>gitproc</c>), so none can drift from the code.
/// </summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed partial class PackageReadmeTests
{
    // The operations of the reference's "Python API" section, in its order.
    private static readonly string[] PythonOperations =
    [
        "UnitFileParser.parse",
        "ProcessManager.start_process", "ProcessManager.is_running", "ProcessManager.stop_process", "ProcessManager.get_logs",
        "GitIntegration.init", "GitIntegration.get_unit_files", "GitIntegration.read_unit_file", "GitIntegration.get_changed_files",
        "GitIntegration.rollback", "GitIntegration.get_current_commit",
        "StateManager.register_service", "StateManager.get_service", "StateManager.update_status", "StateManager.get_all_services",
        "StateManager.save_state", "StateManager.load_state",
        "ResourceController.create_cgroup", "ResourceController.add_process_to_cgroup", "ResourceController.get_memory_usage",
        "ResourceController.get_cpu_usage", "ResourceController.remove_cgroup",
        "DependencyResolver.add_service", "DependencyResolver.get_start_order", "DependencyResolver.has_cycle", "DependencyResolver.get_dependencies",
        "HealthMonitor.add_check", "HealthMonitor.start", "HealthMonitor.is_healthy", "HealthMonitor.get_last_error", "HealthMonitor.stop",
        "Daemon", "Daemon.start", "Daemon.stop",
        "CLI",
    ];

    private static readonly Assembly[] PublicAssemblies =
    [
        typeof(IStateManager).Assembly,
        typeof(GitProcDaemonServiceCollectionExtensions).Assembly,
    ];

    [Test]
    public void Every_Python_operation_has_exactly_one_row()
    {
        var operations = PythonRows().Select(row => row.Python).ToList();

        Assert.That(operations, Is.EqualTo(PythonOperations));
    }

    [Test]
    public void Every_member_the_table_names_exists_in_the_public_API()
    {
        var missing = new List<string>();
        foreach (var (python, dotnet) in PythonRows())
        {
            var code = string.Join(' ', CodeSpan().Matches(dotnet).Select(span => span.Value));
            foreach (Match member in QualifiedMember().Matches(code))
            {
                var typeName = member.Groups["type"].Value;
                var memberName = member.Groups["member"].Value;
                var type = PublicAssemblies.SelectMany(a => a.GetExportedTypes()).SingleOrDefault(t => t.Name == typeName);
                if (type is null || !HasPublicMember(type, memberName))
                {
                    missing.Add($"{python}: {typeName}.{memberName}");
                }
            }

            foreach (Match extension in ExtensionCall().Matches(code))
            {
                var name = extension.Groups["member"].Value;
                if (!PublicAssemblies.SelectMany(a => a.GetExportedTypes()).Any(t => t.IsAbstract && t.IsSealed && t.GetMethod(name) is not null))
                {
                    missing.Add($"{python}: extension {name}");
                }
            }
        }

        Assert.That(missing, Is.Empty);
    }

    [Test]
    public void Every_component_in_the_table_is_a_public_interface_that_AddGitProc_registers()
    {
        var rows = Section("GitProc.Core", "## Components")
            .Select(line => ComponentRow().Match(line))
            .Where(match => match.Success)
            .Select(match => (Name: match.Groups["name"].Value, Namespace: match.Groups["namespace"].Value))
            .ToList();
        var registered = new ServiceCollection().AddGitProc().Select(d => d.ServiceType).ToHashSet();

        var wrong = new List<string>();
        foreach (var (name, ns) in rows)
        {
            var type = PublicAssemblies.SelectMany(a => a.GetExportedTypes()).SingleOrDefault(t => t.IsInterface && t.Name == name);
            if (type is null || type.Namespace != ns || !registered.Contains(type))
            {
                wrong.Add($"{name} in {ns}: {(type is null ? "no such public interface" : type.Namespace != ns ? "it is in " + type.Namespace : "not registered")}");
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(rows.Select(r => r.Name).Take(7), Is.EqualTo(new[]
            {
                "IUnitFileParser", "IDependencyResolver", "IProcessManager", "IResourceController", "IHealthMonitor", "IGitIntegration", "IStateManager",
            }), "the seven components of the original reference come first");
            Assert.That(wrong, Is.Empty);
        });
    }

    [TestCase("GitProc.Core")]
    [TestCase("GitProc.Hosting")]
    public void Every_CSharp_snippet_imports_the_namespaces_of_the_GitProc_types_and_extensions_it_uses(string package)
    {
        var types = PublicAssemblies.SelectMany(a => a.GetExportedTypes()).Where(t => !t.IsNested).ToLookup(t => t.Name);
        var snippets = CSharpSnippets(package).ToList();
        Assert.That(snippets, Is.Not.Empty);
        var missing = new List<string>();
        foreach (var snippet in snippets)
        {
            var imported = UsingDirective().Matches(snippet).Select(m => m.Groups["namespace"].Value).ToHashSet(StringComparer.Ordinal);
            var needed = Identifier().Matches(snippet)
                .SelectMany(m => types[m.Value])
                .Select(t => t.Namespace!)
                .Where(ns => ns.StartsWith("GitProc", StringComparison.Ordinal));
            if (snippet.Contains(".AddGitProc", StringComparison.Ordinal))
            {
                needed = needed.Append("Microsoft.Extensions.DependencyInjection");
            }

            missing.AddRange(needed.Distinct().Where(ns => !imported.Contains(ns)).Select(ns => $"using {ns}; in the snippet starting \"{snippet.Split('\n')[0]}\""));
        }

        Assert.That(missing, Is.Empty);
    }

    [Test]
    public async Task The_CLI_readme_has_a_row_for_every_command()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.That(await new GitProcCli().RunAsync(["--help"], output, error), Is.Zero, error.ToString());
        var commands = output.ToString().Split('\n')
            .SkipWhile(line => !line.StartsWith("Commands:", StringComparison.Ordinal))
            .Skip(1)
            .TakeWhile(line => line.StartsWith("  ", StringComparison.Ordinal))
            .Select(line => line.Trim().Split(' ')[0])
            .ToList();
        var documented = Section("GitProc.Cli", "## Commands")
            .Where(line => line.StartsWith("| `", StringComparison.Ordinal))
            .SelectMany(line => CodeSpan().Matches(line.Split(" | ")[0]).Select(span => span.Value.Trim('`').Split(' ')[0]))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Multiple(() =>
        {
            Assert.That(commands, Has.Count.GreaterThan(10), output.ToString());
            Assert.That(commands.Where(c => !documented.Contains(c)), Is.Empty, "commands the readme does not list");
            Assert.That(documented.Where(c => !commands.Contains(c)), Is.Empty, "rows for commands that do not exist");
        });
    }

    private static IEnumerable<string> CSharpSnippets(string package)
    {
        var text = File.ReadAllText(ReadmePath(package)).ReplaceLineEndings("\n");
        return CSharpBlock().Matches(text).Select(m => m.Groups["code"].Value);
    }

    /// <summary>The lines of a readme's section, from its heading to the next one of the same level.</summary>
    private static List<string> Section(string package, string heading)
    {
        var readme = File.ReadAllLines(ReadmePath(package));
        var start = Array.FindIndex(readme, line => line == heading);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"the {package} readme has no section {heading}");
        return readme.Skip(start + 1).TakeWhile(line => !line.StartsWith("## ", StringComparison.Ordinal)).ToList();
    }

    private static string ReadmePath(string package) => Path.Combine(GitProcSandbox.SourceRoot, package, "README.md");

    private static bool HasPublicMember(Type type, string name) =>
        type.GetMember(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy).Length > 0
        || type.GetInterfaces().Any(parent => parent.GetMember(name).Length > 0);

    /// <summary>The table's rows: the Python operation (without arguments) and the .NET column's text.</summary>
    private static List<(string Python, string DotNet)> PythonRows()
    {
        var readme = File.ReadAllLines(ReadmePath("GitProc.Core"));
        var start = Array.FindIndex(readme, line => line.StartsWith("## From the Python API", StringComparison.Ordinal));
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "the readme has no section on the Python API");

        return readme
            .Skip(start + 1)
            .TakeWhile(line => !line.StartsWith("## ", StringComparison.Ordinal))
            .Select(line => TableRow().Match(line))
            .Where(match => match.Success)
            .Select(match => (match.Groups["python"].Value, match.Groups["dotnet"].Value))
            .ToList();
    }

    [GeneratedRegex(@"^\| `(?<python>[A-Za-z_.]+)(\([^`]*\))?` \| (?<dotnet>.*) \|$")]
    private static partial Regex TableRow();

    [GeneratedRegex("`[^`]*`")]
    private static partial Regex CodeSpan();

    // Type.Member inside a code span, not in the middle of a longer chain (unit.ExecStartCommands).
    [GeneratedRegex(@"(?<![\w.])(?<type>[A-Z]\w*)\.(?<member>[A-Z]\w*)")]
    private static partial Regex QualifiedMember();

    [GeneratedRegex(@"`services\.(?<member>[A-Z]\w*)\(")]
    private static partial Regex ExtensionCall();

    [GeneratedRegex(@"^\| `(?<name>I[A-Z]\w*)` \| `(?<namespace>[\w.]+)` \|")]
    private static partial Regex ComponentRow();

    [GeneratedRegex(@"```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"^using (?<namespace>[\w.]+);", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"\b[A-Z]\w*\b")]
    private static partial Regex Identifier();
}
