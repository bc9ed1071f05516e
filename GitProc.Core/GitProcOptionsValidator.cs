using System.Globalization;
using GitProc.Delivery;
using GitProc.Events;
using GitProc.Git;
using GitProc.Health;
using GitProc.Ipc;
using GitProc.Logs;
using GitProc.Metrics;
using GitProc.ResourceControl;
using GitProc.Targeting;
using GitProc.UnitFiles;
using GitProc.Web;
using Microsoft.Extensions.Options;

namespace GitProc;

/// <summary>
/// Checks <see cref="GitProcOptions"/> at start-up and lists every invalid field at once; each component's part
/// (<see cref="PathOptions"/>, <see cref="GitOptions"/>, …) is checked by the same rules when it is made, so options
/// configured for a part alone are held to them too. Messages name the configuration key (<c>Git.FetchTimeout</c>).
/// </summary>
internal sealed class GitProcOptionsValidator :
    IValidateOptions<GitProcOptions>,
    IValidateOptions<PathOptions>,
    IValidateOptions<TargetingOptions>,
    IValidateOptions<GitOptions>,
    IValidateOptions<LogOptions>,
    IValidateOptions<IpcOptions>,
    IValidateOptions<ResourceControlOptions>,
    IValidateOptions<HealthOptions>,
    IValidateOptions<UnitFileOptions>,
    IValidateOptions<DeliveryOptions>,
    IValidateOptions<EventOptions>,
    IValidateOptions<MetricsOptions>,
    IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, GitProcOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        Check(failures, options.ToPaths());
        Check(failures, options.ToTargeting());
        Check(failures, options.Git);
        Check(failures, options.Logs);
        Check(failures, options.Ipc);
        Check(failures, options.ResourceControl);
        Check(failures, options.Health);
        Check(failures, options.UnitFiles);
        Check(failures, options.Delivery);
        Check(failures, options.Events);
        Check(failures, options.Metrics);
        Check(failures, options.Web);
        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, PathOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, TargetingOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, GitOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, LogOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, IpcOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, ResourceControlOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, HealthOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, UnitFileOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, DeliveryOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, EventOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, MetricsOptions options) => Result(Check, options);

    public ValidateOptionsResult Validate(string? name, WebOptions options) => Result(Check, options);

    private static ValidateOptionsResult Result<TOptions>(Action<List<string>, TOptions> check, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        check(failures, options);
        return Result(failures);
    }

    private static ValidateOptionsResult Result(List<string> failures) =>
        failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

    private static void Check(List<string> failures, PathOptions options)
    {
        RequireAbsolute(failures, nameof(options.RepositoryPath), options.RepositoryPath);
        RequireAbsolute(failures, nameof(options.StatePath), options.StatePath);
        RequireAbsolute(failures, nameof(options.SocketPath), options.SocketPath);
        RequireAbsolute(failures, nameof(options.LogDirectory), options.LogDirectory);
    }

    private static void Check(List<string> failures, TargetingOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.WatchBranch))
        {
            failures.Add($"{nameof(options.WatchBranch)} must name a branch.");
        }
        else if (!IsBranchName(options.WatchBranch))
        {
            failures.Add($"{nameof(options.WatchBranch)} must be a valid Git branch name (was '{options.WatchBranch}').");
        }

        if (string.IsNullOrWhiteSpace(options.HostName) || options.HostName.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            failures.Add($"{nameof(options.HostName)} must be a host name without spaces, such as web-1 (was '{options.HostName}').");
        }

        if (!string.IsNullOrWhiteSpace(options.MachineId) && HostPattern.ParseMachineId(options.MachineId.Trim()) is null)
        {
            failures.Add($"{nameof(options.MachineId)} must be 32 hexadecimal digits, as in /etc/machine-id (was '{options.MachineId}').");
        }
    }

    private static void Check(List<string> failures, GitOptions git)
    {
        if (git.RemoteBranch is { } remoteBranch && !string.IsNullOrWhiteSpace(remoteBranch) && !IsBranchName(remoteBranch))
        {
            failures.Add($"Git.{nameof(git.RemoteBranch)} must be a valid Git branch name (was '{remoteBranch}').");
        }

        if (git.RemoteUrl is { } remoteUrl && RemoteAddress.CarriesSecret(remoteUrl))
        {
            failures.Add($"Git.{nameof(git.RemoteUrl)} must not carry credentials (was '{RemoteAddress.Redact(remoteUrl)}'); put them in Git.{nameof(git.CredentialsFile)} or Git.{nameof(git.CredentialsEnvironmentVariable)}.");
        }

        if (git.FetchTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Git.{nameof(git.FetchTimeout)} must be positive (was {git.FetchTimeout}).");
        }

        if (git.FetchRetryDelay <= TimeSpan.Zero || git.FetchRetryMaxDelay < git.FetchRetryDelay)
        {
            failures.Add($"Git.{nameof(git.FetchRetryDelay)} must be positive and at most Git.{nameof(git.FetchRetryMaxDelay)} (were {git.FetchRetryDelay} and {git.FetchRetryMaxDelay}).");
        }

        ValidateSigning(failures, git);
    }

    private static void Check(List<string> failures, LogOptions logs)
    {
        if (logs.MaxFileBytes < 1024)
        {
            failures.Add($"Logs.{nameof(logs.MaxFileBytes)} must be at least 1024 bytes (was {logs.MaxFileBytes}).");
        }

        if (logs.MaxFiles < 0)
        {
            failures.Add($"Logs.{nameof(logs.MaxFiles)} must not be negative (was {logs.MaxFiles}).");
        }
    }

    private static void Check(List<string> failures, IpcOptions ipc)
    {
        if (ipc.MaxConnections < 1)
        {
            failures.Add($"Ipc.{nameof(ipc.MaxConnections)} must be at least 1 (was {ipc.MaxConnections}).");
        }

        if (ipc.IdleTimeout < IpcOptions.MinIdleTimeout)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Ipc.{nameof(ipc.IdleTimeout)} must be at least 1 second, such as 00:05:00 for 5 minutes (was {ipc.IdleTimeout})."));
        }

        if (!TryParseMode(ipc.SocketMode, out _))
        {
            failures.Add($"Ipc.{nameof(ipc.SocketMode)} must be an octal mode such as 0600 (was '{ipc.SocketMode}').");
        }
    }

    private static void Check(List<string> failures, ResourceControlOptions resources)
    {
        if (string.IsNullOrWhiteSpace(resources.CgroupRoot) || resources.CgroupRoot.Contains("..", StringComparison.Ordinal))
        {
            failures.Add($"ResourceControl.{nameof(resources.CgroupRoot)} must be a relative cgroup name without '..' (was '{resources.CgroupRoot}').");
        }

        if (resources.OomPollInterval < TimeSpan.Zero)
        {
            failures.Add($"ResourceControl.{nameof(resources.OomPollInterval)} must be zero (read at exit only) or positive (was {resources.OomPollInterval}).");
        }
    }

    private static void Check(List<string> failures, HealthOptions health)
    {
        if (health.StartPeriod < TimeSpan.Zero)
        {
            failures.Add($"Health.{nameof(health.StartPeriod)} must not be negative (was {health.StartPeriod}).");
        }
    }

    private static void Check(List<string> failures, UnitFileOptions unitFiles)
    {
        if (!Enum.IsDefined(unitFiles.UnknownKeys))
        {
            failures.Add($"UnitFiles.{nameof(unitFiles.UnknownKeys)} must be {nameof(UnknownKeyHandling.Error)} or {nameof(UnknownKeyHandling.Warn)} (was '{unitFiles.UnknownKeys}').");
        }
    }

    private static void Check(List<string> failures, DeliveryOptions delivery)
    {
        if (delivery.VerifyWindow <= TimeSpan.Zero)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Delivery.{nameof(delivery.VerifyWindow)} must be positive, such as 00:00:30 for 30 seconds (was {delivery.VerifyWindow})."));
        }

        if (delivery.HistoryLimit < 1)
        {
            failures.Add($"Delivery.{nameof(delivery.HistoryLimit)} must be at least 1 (was {delivery.HistoryLimit}).");
        }

        if (delivery.CrashLoopRestarts < 1)
        {
            failures.Add($"Delivery.{nameof(delivery.CrashLoopRestarts)} must be at least 1 (was {delivery.CrashLoopRestarts}).");
        }
    }

    private static void Check(List<string> failures, EventOptions events)
    {
        if (events.SubscriberBuffer < 1)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Events.{nameof(events.SubscriberBuffer)} must be at least 1 (was {events.SubscriberBuffer})."));
        }
    }

    private static void Check(List<string> failures, MetricsOptions metrics) => ValidateListen(failures, "Metrics", metrics.Listen, 9101);

    private static void Check(List<string> failures, WebOptions web)
    {
        ValidateListen(failures, "Web", web.Listen, 9102);
        if (web.LogLines is < 1 or > WebServer.MaxLogLines)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Web.{nameof(web.LogLines)} must be from 1 to {WebServer.MaxLogLines} (was {web.LogLines})."));
        }
    }

    /// <summary>
    /// Signed commits: required with at least one trust source, and each source set is a file the verifier can use now
    /// (read once here, so a typo in it stops the daemon at start rather than rejecting every commit later).
    /// </summary>
    private static void ValidateSigning(List<string> failures, GitOptions git)
    {
        var allowedSigners = string.IsNullOrWhiteSpace(git.AllowedSignersFile) ? null : git.AllowedSignersFile;
        var keyring = string.IsNullOrWhiteSpace(git.GpgKeyringFile) ? null : git.GpgKeyringFile;
        if (!git.RequireSignedCommits)
        {
            if (allowedSigners is not null || keyring is not null)
            {
                failures.Add($"Git.{(allowedSigners is not null ? nameof(git.AllowedSignersFile) : nameof(git.GpgKeyringFile))} is set but Git.{nameof(git.RequireSignedCommits)} is not true, so no signature would be checked; set Git.{nameof(git.RequireSignedCommits)} to true.");
            }

            return;
        }

        if (allowedSigners is null && keyring is null)
        {
            failures.Add($"Git.{nameof(git.RequireSignedCommits)} is true but no trusted key is set: set Git.{nameof(git.AllowedSignersFile)} (SSH signers) or Git.{nameof(git.GpgKeyringFile)} (OpenPGP keys), or both.");
            return;
        }

        try
        {
            if (allowedSigners is not null)
            {
                AllowedSignersFile.Check(allowedSigners);
            }
        }
        catch (GitException ex)
        {
            failures.Add(ex.Message);
        }

        try
        {
            if (keyring is not null)
            {
                _ = GpgKeyringFile.Load(keyring);
            }
        }
        catch (GitException ex)
        {
            failures.Add(ex.Message);
        }
    }

    /// <summary>An HTTP listen address (<c>Metrics:Listen</c>, <c>Web:Listen</c>) that does not parse, said with an example.</summary>
    private static void ValidateListen(List<string> failures, string section, string? listen, int examplePort)
    {
        if (listen is not null && Http.ListenAddress.Parse(listen, out var error) is null)
        {
            failures.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{section}.Listen must be HOST:PORT such as 127.0.0.1:{examplePort}, or a port alone for loopback: {error} (was '{listen}')."));
        }
    }

    /// <summary>Whether Git accepts the name as a branch (<c>main</c>, <c>refs/heads/main</c>), as the daemon will ask it to.</summary>
    private static bool IsBranchName(string branch) =>
        LibGit2Sharp.Reference.IsValidName(branch.StartsWith("refs/heads/", StringComparison.Ordinal) ? branch : "refs/heads/" + branch);

    /// <summary>Parses an octal file mode such as <c>0600</c> or <c>660</c>.</summary>
    internal static bool TryParseMode(string? text, out UnixFileMode mode)
    {
        mode = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 4 || text.Any(c => c is < '0' or > '7'))
        {
            return false;
        }

        mode = (UnixFileMode)Convert.ToInt32(text, 8);
        return true;
    }

    private static void RequireAbsolute(List<string> failures, string field, string? path)
    {
        if (string.IsNullOrWhiteSpace(path) || !Path.IsPathRooted(path))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{field} must be an absolute path (was '{path}')."));
        }
    }
}
