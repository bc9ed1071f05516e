using System.CommandLine;
using System.Runtime.Versioning;
using GitProc.Daemon;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc daemon [--repo PATH] [--watch-branch B] [--config FILE] [--state PATH] [--log-dir PATH] [--json]</c>: runs the
/// supervisor in a Generic Host in the foreground until SIGTERM/SIGINT, then stops its services cleanly. Settings:
/// command line over environment (<c>GITPROC_*</c>) over the config file over defaults.
/// <para>
/// Exit codes, also as a container's main process (PID 1, see <c>ContainerInit</c>): 0 after SIGTERM or SIGINT stopped
/// every service cleanly; 1, with one line on stderr, when the daemon cannot start (another daemon owns the state, the
/// cgroup root or the socket; no repository and nothing applied before; a directory it cannot write; invalid settings),
/// when its stop was not clean (the final state could not be saved), or when it stops because of a failure (its
/// services were stopped first). With <c>--json</c> the log lines on stdout are JSON objects, and a failure adds the
/// error object (<c>docs/json.md</c>) as the last line.
/// </para>
/// </summary>
internal static class DaemonCommand
{
    private const string Section = GitProcOptions.SectionName + ":";

    public static Command Create(CliContext context)
    {
        var repo = PathOption("--repo", "The Git repository of unit files", CliContext.RepositoryVariable);
        var state = PathOption("--state", "The state file", CliContext.StateVariable);
        var logDir = PathOption("--log-dir", "The directory of service logs", CliContext.LogDirectoryVariable);
        var branch = new Option<string?>("--watch-branch") { Description = "The branch whose tip is the desired state (default main)", HelpName = "BRANCH" };
        var json = context.JsonOption;
        var command = new Command("daemon", "Run the supervisor in the foreground until SIGTERM or SIGINT") { repo, branch, state, logDir, json };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!OperatingSystem.IsLinux())
            {
                return context.Fail(GitProcErrorCodes.NotSupported, "The gitproc daemon runs on Linux only.");
            }

            var settings = new Dictionary<string, string?>();
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    settings[Section + key] = value;
                }
            }

            // Environment over the config file; the command line over both.
            Set(nameof(GitProcOptions.RepositoryPath), FullPath(context.Environment(CliContext.RepositoryVariable)));
            Set(nameof(GitProcOptions.SocketPath), FullPath(context.Environment(CliContext.SocketVariable)));
            Set(nameof(GitProcOptions.StatePath), FullPath(context.Environment(CliContext.StateVariable)));
            Set(nameof(GitProcOptions.LogDirectory), FullPath(context.Environment(CliContext.LogDirectoryVariable)));
            Set(nameof(GitProcOptions.RepositoryPath), FullPath(parseResult.GetValue(repo)));
            Set(nameof(GitProcOptions.SocketPath), FullPath(parseResult.GetValue(context.SocketOption)));
            Set(nameof(GitProcOptions.StatePath), FullPath(parseResult.GetValue(state)));
            Set(nameof(GitProcOptions.LogDirectory), FullPath(parseResult.GetValue(logDir)));
            Set(nameof(GitProcOptions.WatchBranch), parseResult.GetValue(branch));

            return await RunAsync(context, parseResult.GetValue(context.ConfigOption), settings, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    [SupportedOSPlatform("linux")]
    private static async Task<int> RunAsync(CliContext context, string? configFile, Dictionary<string, string?> overrides, CancellationToken cancellationToken)
    {
        // The daemon reads no content files; a fixed root keeps the host from deriving one from the executable's
        // directory, which a NativeAOT build run as a service user that may not read that directory gets empty.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "gitproc", ContentRootPath = "/" });
        if (configFile is not null)
        {
            AddConfigFile(builder.Configuration, configFile);
        }

        builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));

        // A start-up failure (another daemon owns the state or the socket, say) is reported by this command as one line on stderr
        // with exit code 1; the host would also log it, with a stack trace, on stdout. Only the host's own Error
        // events are dropped: a crashed background service is still logged, at Critical, when it stops the host.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        if (context.Json)
        {
            // --json: stdout holds nothing but JSON, one object a line: the log entries, then a start-up failure's error object.
            builder.Logging.AddJsonConsole(o => o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffzzz");
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
            });
        }

        // Under systemd (started by it, or PID 1 with NOTIFY_SOCKET set): READY=1 once every hosted service has started,
        // that is after the initial apply, so `Type=notify` units ordered after gitproc.service start once the services
        // run; STOPPING=1 when the stop begins; log lines with journald priority prefixes. Elsewhere it does nothing.
        builder.Services.AddSystemd();

        // Replacements first: AddGitProcDaemon registers with TryAdd.
        context.ConfigureServices?.Invoke(builder.Services);
        builder.Services.AddGitProcDaemon(builder.Configuration);
        builder.Services.AddHostedService<MemorySettler>();
        if (OwnCommandLine() is { } self)
        {
            // SIGHUP and IPC reexec re-execute this very command: the binary at the same path (a new version once
            // installed there) with the same arguments.
            builder.Services.Configure<InPlaceUpgradeOptions>(o =>
            {
                o.Executable = self.Executable;
                foreach (var argument in self.Arguments)
                {
                    o.Arguments.Add(argument);
                }
            });
        }

        try
        {
            using var host = builder.Build();
            try
            {
                // Bound here rather than inside the host's start, where a value that does not convert ("soon" for a
                // time span) would surface as an unexplained InvalidOperationException.
                _ = host.Services.GetRequiredService<IOptions<GitProcOptions>>().Value;
            }
            catch (InvalidOperationException ex)
            {
                return context.Fail(GitProcErrorCodes.ConfigError, $"Invalid settings: {ex.Message}");
            }

            // Taken before the run, which disposes the host's services.
            var background = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
                await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && BackgroundFailure(background) is not null)
            {
                // The background service failed while later ones were still starting (a slow initial apply, say): the
                // host cancelled their start, and the daemon's own start stops what it had started when cancelled. The
                // failure is reported below like one after the start.
            }

            // A background service that failed stopped the host (logged at Critical); the host still returns normally,
            // but for systemd's Restart=on-failure and for scripts this is a failure, not a clean stop.
            return BackgroundFailure(background) is { } failure
                ? context.Fail(
                    GitProcErrorCodes.Of(failure),
                    failure is GitProcException ? failure.Message : $"the daemon stopped after an internal failure: {failure.GetType().Name}: {failure.Message}")
                : ExitCodes.Success;
        }
        catch (AggregateException ex) when (ex.InnerExceptions is [var inner])
        {
            return context.Fail(
                GitProcErrorCodes.Of(inner),
                inner is GitProcException ? inner.Message : $"the daemon could not start: {inner.GetType().Name}: {inner.Message}");
        }
        catch (GitProcException ex)
        {
            return context.Fail(ex);
        }
        catch (AggregateException ex)
        {
            // Several parts of the daemon failed at once (a stop that was not clean among them).
            return context.Fail(GitProcErrorCodes.Failed, $"The daemon stopped because of errors: {string.Join("; ", ex.InnerExceptions.Select(e => e.Message))}");
        }
        catch (OptionsValidationException ex)
        {
            return context.Fail(GitProcErrorCodes.ConfigError, $"Invalid settings: {string.Join(" ", ex.Failures)}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped by a signal while still starting: services started so far were stopped.
            return ExitCodes.Success;
        }
    }

    private static Exception? BackgroundFailure(List<BackgroundService> background) =>
        background.Select(s => s.ExecuteTask?.Exception?.InnerException).FirstOrDefault(e => e is not null);

    /// <summary>
    /// Adds the JSON file: its <c>GitProc</c> section when it has one (other sections, such as <c>Logging</c>, then
    /// apply too), else its top level as the <c>GitProc</c> section.
    /// </summary>
    internal static void AddConfigFile(IConfigurationBuilder configuration, string path)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new GitProcException($"The config file {fullPath} does not exist.") { Code = GitProcErrorCodes.ConfigError };
        }

        IConfigurationRoot file;
        try
        {
            file = new ConfigurationBuilder().AddJsonFile(fullPath, optional: false, reloadOnChange: false).Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException)
        {
            // The configuration provider's message only names the file; the JSON reader's says what and where.
            var reason = ex.GetBaseException() is { } inner && inner != ex ? $"{ex.Message.TrimEnd('.')}: {inner.Message}" : ex.Message;
            throw new GitProcException($"The config file {fullPath} cannot be read: {reason}", ex) { Code = GitProcErrorCodes.ConfigError };
        }

        if (file.GetSection(GitProcOptions.SectionName).Exists())
        {
            configuration.AddConfiguration(file);
            return;
        }

        configuration.AddInMemoryCollection(file.AsEnumerable()
            .Where(pair => pair.Value is not null)
            .Select(pair => new KeyValuePair<string, string?>(Section + pair.Key, pair.Value)));
    }

    /// <summary>
    /// This process's executable and command line, when this process is the gitproc command (the native binary, the
    /// app host, or <c>dotnet gitproc.dll</c>); <see langword="null"/> when the command runs inside another program
    /// (a test host), which must never be re-executed in its place.
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static (string Executable, IReadOnlyList<string> Arguments)? OwnCommandLine()
    {
        if (Environment.ProcessPath is not { } executable)
        {
            return null;
        }

        var arguments = GitProc.Processes.SelfExec.CurrentArguments();
        var name = Path.GetFileName(executable);
        var isGitProc = name == "gitproc"
            || (name == "dotnet" && arguments.Count > 1 && Path.GetFileName(arguments[1]) == "gitproc.dll");
        return isGitProc ? (executable, arguments) : null;
    }

    private static Option<string?> PathOption(string name, string description, string variable) => new(name)
    {
        Description = $"{description} (env {variable})",
        HelpName = "PATH",
    };

    private static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);
}
