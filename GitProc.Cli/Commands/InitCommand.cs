using System.CommandLine;

namespace GitProc.Cli.Commands;

/// <summary><c>gitproc init --repo PATH</c>: creates the Git repository of unit files; exit 1 if one exists there.</summary>
internal static class InitCommand
{
    public static Command Create(CliContext context)
    {
        var repo = new Option<string?>("--repo")
        {
            Description = $"Where to create it (env {CliContext.RepositoryVariable}; default {DefaultPaths.Repository})",
            HelpName = "PATH",
        };
        var command = new Command("init", "Create a Git repository for unit files") { repo };
        command.SetAction(parseResult =>
        {
            var path = context.ResolvePath(parseResult, repo, CliContext.RepositoryVariable, nameof(GitProcOptions.RepositoryPath), DefaultPaths.Repository);
            var initializer = context.RepositoryInitializer();
            if (initializer.Exists(path))
            {
                return context.Fail($"A Git repository already exists at {path}");
            }

            try
            {
                initializer.Initialize(path, new GitProcOptions().WatchBranch);
            }
            catch (Exception ex) when (ex is not GitProcException and not OutOfMemoryException)
            {
                return context.Fail($"Cannot create a Git repository at {path}: {ex.Message}");
            }

            context.Out.WriteLine($"Initialized GitProc repository in {path}");
            return ExitCodes.Success;
        });
        return command;
    }
}
