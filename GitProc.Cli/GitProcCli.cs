using System.CommandLine;
using GitProc.Cli.Commands;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Cli;

/// <summary>
/// The <c>gitproc</c> command line: parses, calls the daemon (or runs it), prints exactly the documented output, and
/// returns its exit codes (0 success, 1 runtime error, 2 usage error). Output goes to the given writers so tests
/// capture it.
/// </summary>
internal sealed class GitProcCli
{
    private readonly Func<string, string?> _environment;
    private readonly Action<IServiceCollection>? _configureServices;

    /// <param name="environment">Reads an environment variable; default the process environment.</param>
    /// <param name="configureServices">Registers replacements before GitProc's own services (tests).</param>
    public GitProcCli(
        Func<string, string?>? environment = null,
        Action<IServiceCollection>? configureServices = null)
    {
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _configureServices = configureServices;
    }

    public async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var context = new CliContext(output, error, _environment, _configureServices);
        var root = CreateRootCommand(context);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // A command line that does not parse may still have asked for JSON: --json among its options.
            context.Json = args.TakeWhile(a => a != "--").Contains("--json", StringComparer.Ordinal);

            // One line: the most specific error ("Unrecognized command or argument 'x'" rather than "Required command
            // was not provided", which System.CommandLine also reports for an unknown command).
            var first = parseResult.Errors
                .OrderBy(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal) ? 0 : 1)
                .First();
            return context.Fail(GitProcErrorCodes.Usage, $"{CliContext.OneLine(first.Message)} (see 'gitproc --help')", ExitCodes.Usage);
        }

        context.Json = parseResult.GetValue(context.JsonOption);

        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,

            // Program.cs owns SIGINT/SIGTERM, so that the daemon's host can shut down at its own pace.
            ProcessTerminationTimeout = null,
        };

        try
        {
            return await parseResult.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
        catch (GitProcException ex)
        {
            return context.Fail(ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug, not a user error: still one line and exit 1 rather than an unhandled-exception abort. A failed type
            // initializer (libgit2 that cannot be loaded, say) is named by what failed inside it.
            var cause = ex;
            while (cause is TypeInitializationException { InnerException: { } inner })
            {
                cause = inner;
            }

            return context.Fail(GitProcErrorCodes.Internal, $"unexpected {cause.GetType().Name}: {cause.Message}");
        }
    }

    private static RootCommand CreateRootCommand(CliContext context)
    {
        var root = new RootCommand("GitProc: a process supervisor whose desired state lives in Git.");
        root.Options.Add(context.SocketOption);
        root.Options.Add(context.ConfigOption);
        root.Subcommands.Add(InitCommand.Create(context));
        root.Subcommands.Add(DaemonCommand.Create(context));
        root.Subcommands.Add(StartCommand.Create(context));
        root.Subcommands.Add(StopCommand.Create(context));
        root.Subcommands.Add(RestartCommand.Create(context));
        root.Subcommands.Add(ReloadCommand.Create(context));
        root.Subcommands.Add(StatusCommand.Create(context));
        root.Subcommands.Add(LogsCommand.Create(context));
        root.Subcommands.Add(ListCommand.Create(context));
        root.Subcommands.Add(RollbackCommand.Create(context));
        root.Subcommands.Add(SyncCommand.Create(context));
        root.Subcommands.Add(CheckCommand.Create(context));
        root.Subcommands.Add(PlanCommand.Create(context));
        root.Subcommands.Add(HistoryCommand.Create(context));
        root.Subcommands.Add(EventsCommand.Create(context));
        root.Subcommands.Add(CompletionCommand.Create(context, root));
        return root;
    }
}
