using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using GitProc.Git;
using GitProc.Validation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc check [PATH...] [--commit REV] [--strict] [--json]</c>: validates unit files as the daemon would, without
/// a daemon, with the daemon's code (<see cref="IUnitCheck"/>, which its reconciler uses for every commit) and settings
/// (<c>--config</c>: <c>UnitFiles:UnknownKeys</c>). PATHs are unit files or directories (their <c>*.service</c>); none
/// means the current directory. With <c>--commit</c>, the units of that commit are read from Git: of <c>--repo</c>
/// (or <c>GITPROC_REPO</c>, or the config file's repository), else of the repository the current directory is in.
/// Prints every error, then every warning, one per line on stdout as <c>FILE:LINE: KEY: message</c>
/// (<see cref="UnitDiagnostic.ToString"/>: the line and key are left out where they do not apply; a warning's message
/// starts with <c>warning: </c>), and when invalid a count on stderr. With <c>--commit</c> and
/// <c>Git:RequireSignedCommits</c>, the commit's signature is verified as the daemon verifies it, and an untrusted one is
/// an error line first (<c>commit SHORT: unsigned …</c>; <c>signature</c> in the JSON). Exit 0 when valid, 1 when not (with
/// <c>--strict</c>, warnings too) or when the commit cannot be read, 2 for a usage error.
/// </summary>
internal static class CheckCommand
{
    private const string Section = GitProcOptions.SectionName + ":";
    private const string WarningMarker = "warning: ";

    public static Command Create(CliContext context)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Unit files, or directories whose *.service files to check (default: the current directory)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var repo = new Option<string?>("--repo")
        {
            Description = $"With --commit: the Git repository (env {CliContext.RepositoryVariable}; default the one the current directory is in)",
            HelpName = "PATH",
        };
        var commit = new Option<string?>("--commit")
        {
            Description = "Check the unit files of this commit of the repository, read from Git (not the working tree)",
            HelpName = "REV",
        };
        var strict = new Option<bool>("--strict") { Description = "Fail on warnings too" };
        var json = context.JsonOption;
        var command = new Command("check", "Check unit files as the daemon would, without a daemon") { paths, repo, commit, strict, json };
        command.Validators.Add(result =>
        {
            if (result.GetValue(commit) is not null && result.GetValue(paths) is { Length: > 0 })
            {
                result.AddError("--commit checks the repository's commit and takes no PATH.");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var revision = parseResult.GetValue(commit);
            using var provider = BuildServices(context, parseResult, repo, discoverRepository: revision is not null);
            IUnitCheck check;
            GitProcOptions settings;
            try
            {
                settings = provider.GetRequiredService<IOptions<GitProcOptions>>().Value;
                check = provider.GetRequiredService<IUnitCheck>();
            }
            catch (OptionsValidationException ex)
            {
                return context.Fail(GitProcErrorCodes.ConfigError, $"Invalid settings: {string.Join(" ", ex.Failures)}");
            }

            var result = revision is not null
                ? await check.CheckCommitAsync(revision, cancellationToken).ConfigureAwait(false)
                : await check.CheckPathsAsync(
                    parseResult.GetValue(paths) is { Length: > 0 } given ? given : ["."],
                    cancellationToken).ConfigureAwait(false);
            // As the daemon would: a commit whose signature it would not trust is rejected whatever its units.
            var signature = revision is not null && settings.Git.RequireSignedCommits
                ? await provider.GetRequiredService<ICommitSignatureVerifier>().VerifyAsync(revision, cancellationToken).ConfigureAwait(false)
                : null;
            var failOnWarnings = parseResult.GetValue(strict);
            var valid = result.IsValid && signature is not { IsTrusted: false } && !(failOnWarnings && result.Warnings.Count > 0);
            if (parseResult.GetValue(json))
            {
                context.Out.WriteLine(ToJson(result, signature, valid));
                return valid ? ExitCodes.Success : ExitCodes.Error;
            }

            if (signature is { IsTrusted: false })
            {
                context.Out.WriteLine($"commit {CommitText.Short(signature.Commit)}: {signature.Description}");
            }

            foreach (var error in result.Errors)
            {
                context.Out.WriteLine(error.ToString());
            }

            // Marked, since both have the same shape: a reader must tell what fails the commit from what does not.
            foreach (var warning in result.Warnings)
            {
                context.Out.WriteLine((warning with { Message = WarningMarker + warning.Message }).ToString());
            }

            return valid ? ExitCodes.Success : context.Fail(GitProcErrorCodes.Failed, Summary(result, signature));
        });
        return command;
    }

    /// <summary>
    /// GitProc's components with the daemon's settings: the <c>--config</c> file, then the environment, then <c>--repo</c>;
    /// for a commit where none names a repository, the one the current directory is in.
    /// </summary>
    private static ServiceProvider BuildServices(CliContext context, ParseResult parseResult, Option<string?> repo, bool discoverRepository)
    {
        var configuration = new ConfigurationManager();
        if (parseResult.GetValue(context.ConfigOption) is { } configFile)
        {
            DaemonCommand.AddConfigFile(configuration, configFile);
        }

        var repository = parseResult.GetValue(repo) ?? context.Environment(CliContext.RepositoryVariable);
        if (repository is null && discoverRepository && context.ReadConfig(parseResult, nameof(GitProcOptions.RepositoryPath)) is null)
        {
            // A developer's clone or a CI checkout: `gitproc check --commit HEAD` means this repository.
            repository = EnclosingWorkingTree(Environment.CurrentDirectory);
        }

        if (repository is not null)
        {
            configuration.AddInMemoryCollection([new(Section + nameof(GitProcOptions.RepositoryPath), Path.GetFullPath(repository))]);
        }

        var services = new ServiceCollection();
        services.AddOptions<GitProcOptions>().Bind(configuration.GetSection(GitProcOptions.SectionName));
        services.AddGitProc();
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// The working tree the directory is in: the nearest directory, itself or above, with a <c>.git</c> entry (a
    /// directory, or a file as in a linked worktree or a submodule). Not LibGit2Sharp's <c>Repository.Discover</c>:
    /// its answer comes back through a libgit2 buffer that is empty in the NativeAOT build.
    /// </summary>
    private static string? EnclosingWorkingTree(string directory)
    {
        for (var current = new DirectoryInfo(directory); current is not null; current = current.Parent)
        {
            var marker = Path.Combine(current.FullName, ".git");
            if (Directory.Exists(marker) || File.Exists(marker))
            {
                return current.FullName;
            }
        }

        return null;
    }

    private static string Summary(UnitCheckResult result, CommitSignatureVerdict? signature)
    {
        if (signature is { IsTrusted: false })
        {
            var units = result.IsValid ? "" : $"; and {Summary(result, null)}";
            return $"commit {CommitText.Short(signature.Commit)} would be rejected: its signature is not trusted (Git:RequireSignedCommits){units}";
        }

        var files = Count(result.FileCount, "unit file");
        return result.Errors.Count > 0
            ? $"{Count(result.Errors.Count, "error")}{(result.Warnings.Count > 0 ? " and " + Count(result.Warnings.Count, "warning") : string.Empty)} in {files}"
            : $"{Count(result.Warnings.Count, "warning")} in {files}, which --strict counts as errors";

        static string Count(int count, string noun) =>
            string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? string.Empty : "s")}");
    }

    private static string ToJson(UnitCheckResult result, CommitSignatureVerdict? signature, bool valid)
    {
        return JsonOutput.Object(writer =>
        {
            writer.WriteBoolean("valid", valid);
            writer.WriteNumber("files", result.FileCount);
            if (signature is not null)
            {
                // Only when checked (--commit with Git:RequireSignedCommits), so other output keeps its shape.
                writer.WriteStartObject("signature");
                writer.WriteBoolean("trusted", signature.IsTrusted);
                writer.WriteString("status", JsonNamingPolicy.SnakeCaseLower.ConvertName(signature.Status.ToString()));
                writer.WriteString("description", signature.Description);
                writer.WriteString("key", signature.Key);
                writer.WriteString("signer", signature.Signer);
                writer.WriteEndObject();
            }

            Write(writer, "errors", result.Errors);
            Write(writer, "warnings", result.Warnings);
        });

        static void Write(Utf8JsonWriter writer, string name, IReadOnlyList<UnitDiagnostic> diagnostics)
        {
            writer.WriteStartArray(name);
            foreach (var diagnostic in diagnostics)
            {
                writer.WriteStartObject();
                writer.WriteString("file", diagnostic.File);
                if (diagnostic.Line > 0)
                {
                    writer.WriteNumber("line", diagnostic.Line);
                }
                else
                {
                    writer.WriteNull("line");
                }

                writer.WriteString("key", diagnostic.Key);
                writer.WriteString("message", diagnostic.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }
    }
}
