using EmbeddedGitOps;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// An application that runs GitProc's whole GitOps loop inside its own Generic Host: the unit files committed to the
// main branch of DIR/units run as services, each new commit is applied, and the services stop with the application.
//   dotnet run -- DIR                       run until Ctrl+C (or SIGTERM)
//   dotnet run -- DIR --preview [COMMIT]    print the start order of the branch tip (or COMMIT), or its problems
if (args.Length == 0 || args[0].StartsWith('-'))
{
    Console.Error.WriteLine("usage: EmbeddedGitOps DIR [--preview [COMMIT]] [--GitProc:KEY=VALUE ...]");
    return 2;
}

if (!OperatingSystem.IsLinux())
{
    Console.Error.WriteLine("GitProc supervises processes on Linux only.");
    return 1;
}

var preview = args.Length > 1 && args[1] == "--preview";
using var host = EmbeddedGitOpsHost.Build(args[0], preview ? [] : args[1..]);
if (!preview)
{
    await host.RunAsync();
    return 0;
}

// No host start: the preview reads the repository, and runs nothing.
var result = await host.Services.GetRequiredService<UnitPreview>().PreviewAsync(args.Length > 2 ? args[2] : null);
if (result.Commit is null)
{
    Console.WriteLine("The branch has no commit yet.");
    return 0;
}

Console.WriteLine($"{result.Commit}:");
foreach (var line in result.Problems.Count == 0 ? result.StartOrder : result.Problems)
{
    Console.WriteLine("  " + line);
}

return result.Problems.Count == 0 ? 0 : 1;
