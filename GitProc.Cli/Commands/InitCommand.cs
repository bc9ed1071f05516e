using System.CommandLine;
using GitProc.Git;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = context.ResolvePath(parseResult, repo, CliContext.RepositoryVariable, nameof(GitProcOptions.RepositoryPath), DefaultPaths.Repository);

            // Through GitProc's own Git integration, as an embedding application would: the same checks (a broken .git,
            // or a .git file of a worktree, counts as a repository) and the same unborn branch as the daemon watches.
            var services = new ServiceCollection().AddLogging();
            context.ConfigureServices?.Invoke(services);
            services.AddGitProc(o => o.RepositoryPath = path);
            await using var provider = services.BuildServiceProvider();
            var git = provider.GetRequiredService<IGitIntegration>();
            try
            {
                await git.InitAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (GitProcException ex)
            {
                return context.Fail(ex);
            }

            var branch = provider.GetRequiredService<IOptions<GitProcOptions>>().Value.WatchBranch;
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
