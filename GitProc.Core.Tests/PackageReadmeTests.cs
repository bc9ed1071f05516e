using System.Reflection;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using GitProc.Core.Tests.EndToEnd;
using GitProc.State;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests;

/// <summary>
/// The GitProc.Core package readme's table of the original reference's Python API: a row for every operation, and
/// every .NET member it names exists, so the table cannot drift from the code.
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

    private static bool HasPublicMember(Type type, string name) =>
        type.GetMember(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy).Length > 0
        || type.GetInterfaces().Any(parent => parent.GetMember(name).Length > 0);

    /// <summary>The table's rows: the Python operation (without arguments) and the .NET column's text.</summary>
    private static List<(string Python, string DotNet)> PythonRows()
    {
        var readme = File.ReadAllLines(Path.Combine(GitProcSandbox.SourceRoot, "GitProc.Core", "README.md"));
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
}
