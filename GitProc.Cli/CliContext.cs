using System.CommandLine;
using GitProc.Cli.Commands;
using GitProc.Ipc;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Cli;

/// <summary>
/// What every command shares: the output writers, the global options, where settings come from (command line, then
/// environment, then the <c>--config</c> file, then defaults), and the error-to-exit-code mapping.
/// </summary>
internal sealed class CliContext(
    TextWriter output,
    TextWriter error,
    Func<string, string?> environment,
    Action<IServiceCollection>? configureServices)
{
    public const string SocketVariable = "GITPROC_SOCKET";
    public const string RepositoryVariable = "GITPROC_REPO";
    public const string StateVariable = "GITPROC_STATE";
    public const string LogDirectoryVariable = "GITPROC_LOG_DIR";

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>
    /// Test seam: registers replacements (mocks) before GitProc's own registrations, in the daemon's container and in
    /// the one <c>init</c> builds.
    /// </summary>
    public Action<IServiceCollection>? ConfigureServices { get; } = configureServices;

    public Option<string?> SocketOption { get; } = new("--socket")
    {
        Description = $"The daemon's Unix socket (env {SocketVariable}; default {DefaultPaths.Socket})",
        HelpName = "PATH",
        Recursive = true,
    };

    public Option<string?> ConfigOption { get; } = new("--config")
    {
        Description = "A JSON settings file: the keys of GitProcOptions, under \"GitProc\" or at the top level",
        HelpName = "FILE",
        Recursive = true,
    };

    /// <summary>
    /// <c>--json</c>, one instance on every command that has it: success prints one JSON object on stdout (one a line
    /// for streams), and an error adds the error object on stdout (<c>docs/json.md</c>).
    /// </summary>
    public Option<bool> JsonOption { get; } = new("--json")
    {
        Description = "Print the result, or the error, as one JSON object on stdout (see docs/json.md)",
    };

    /// <summary>Whether this run prints JSON: its command line has <see cref="JsonOption"/>. Set once parsed.</summary>
    public bool Json { get; set; }

    public string? Environment(string variable)
    {
        var value = environment(variable);
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>A path setting: the command-line value, else the variable, else the config file's key, else the default.</summary>
    public string ResolvePath(ParseResult parseResult, Option<string?>? option, string variable, string configKey, string fallback)
    {
        var value = (option is null ? null : parseResult.GetValue(option))
            ?? Environment(variable)
            ?? ReadConfig(parseResult, configKey);
        return value is null ? fallback : Path.GetFullPath(value);
    }

    public string ResolveSocket(ParseResult parseResult) =>
        ResolvePath(parseResult, SocketOption, SocketVariable, nameof(GitProcOptions.SocketPath), DefaultPaths.Socket);

    public string? ReadConfig(ParseResult parseResult, string key)
    {
        var file = parseResult.GetValue(ConfigOption);
        return file is null ? null : ConfigFile.ReadValue(file, key);
    }

    /// <summary>Runs a client command: maps daemon errors and an unreachable daemon to one line on stderr and exit 1.</summary>
    public async Task<int> RunClientAsync(ParseResult parseResult, Func<GitProcClient, Task<int>> action, CancellationToken cancellationToken)
    {
        try
        {
            await using var client = new GitProcClient(ResolveSocket(parseResult));
            return await action(client).ConfigureAwait(false);
        }
        catch (GitProcException ex)
        {
            return Fail(ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>Reports the error under its own code (<see cref="GitProcException.Code"/>); returns exit code 1.</summary>
    public int Fail(GitProcException exception) => Fail(exception.Code, exception.Message);

    /// <summary>
    /// Writes <c>Error: message</c> as one line on stderr and, with <c>--json</c>, the error object with
    /// <paramref name="code"/> (<see cref="GitProcErrorCodes"/>) on stdout; returns <paramref name="exitCode"/> (default 1).
    /// </summary>
    public int Fail(string code, string message, int exitCode = ExitCodes.Error)
    {
        Error.WriteLine("Error: " + OneLine(message));
        if (Json)
        {
            // Stdout too, so `out=$(gitproc ... --json)` holds JSON whatever happened; stderr keeps its line for people.
            Out.WriteLine(JsonOutput.Error(code, OneLine(message)));
        }

        return exitCode;
    }

    public static string OneLine(string message) =>
        message.ReplaceLineEndings(" ").Trim();
}
