using System.CommandLine;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc init --repo PATH [--json]</c>: creates the Git repository of unit files; exit 1 if one exists there.
/// With <c>--json</c>: <c>{"repository", "branch"}</c>.
/// </summary>
internal static class InitCommand
{
    public static Command Create(CliContext context)
    {
        var repo = new Option<string?>("--repo")
        {
            Description = $"Where to create it (env {CliContext.RepositoryVariable}; default {DefaultPaths.Repository})",
            HelpName = "PATH",
        };
        var json = context.JsonOption;
        var command = new Command("init", "Create a Git repository for unit files") { repo, json };
        command.SetAction(parseResult =>
        {
            var path = context.ResolvePath(parseResult, repo, CliContext.RepositoryVariable, nameof(GitProcOptions.RepositoryPath), DefaultPaths.Repository);
            var initializer = context.RepositoryInitializer();
            if (initializer.Exists(path))
            {
                return context.Fail(GitProcErrorCodes.RepositoryExists, $"A Git repository already exists at {path}");
            }

            var branch = new GitProcOptions().WatchBranch;
            try
            {
                initializer.Initialize(path, branch);
            }
            catch (Exception ex) when (ex is not GitProcException and not OutOfMemoryException)
            {
                return context.Fail(GitProcErrorCodes.GitError, $"Cannot create a Git repository at {path}: {ex.Message}");
            }

            context.Out.WriteLine(context.Json
                ? JsonOutput.Object(w =>
                {
                    w.WriteString("repository", path);
                    w.WriteString("branch", branch);
                })
                : $"Initialized GitProc repository in {path}");
            return ExitCodes.Success;
        });
        return command;
    }
}
