using System.Globalization;
using GitProc.Ipc;
using GitProc.UnitFiles;
using Microsoft.Extensions.Options;

namespace GitProc;

/// <summary>Checks <see cref="GitProcOptions"/> at start-up and lists every invalid field at once.</summary>
internal sealed class GitProcOptionsValidator : IValidateOptions<GitProcOptions>
{
    public ValidateOptionsResult Validate(string? name, GitProcOptions options)
    {
        var failures = new List<string>();

        RequireAbsolute(failures, nameof(options.RepositoryPath), options.RepositoryPath);
        RequireAbsolute(failures, nameof(options.StatePath), options.StatePath);
        RequireAbsolute(failures, nameof(options.SocketPath), options.SocketPath);
        RequireAbsolute(failures, nameof(options.LogDirectory), options.LogDirectory);

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

        if (options.Git.RemoteBranch is { } remoteBranch && !string.IsNullOrWhiteSpace(remoteBranch) && !IsBranchName(remoteBranch))
        {
            failures.Add($"Git.{nameof(options.Git.RemoteBranch)} must be a valid Git branch name (was '{remoteBranch}').");
        }

        if (options.Git.RemoteUrl is { } remoteUrl && Git.RemoteAddress.CarriesSecret(remoteUrl))
        {
            failures.Add($"Git.{nameof(options.Git.RemoteUrl)} must not carry credentials (was '{Git.RemoteAddress.Redact(remoteUrl)}'); put them in Git.{nameof(options.Git.CredentialsFile)} or Git.{nameof(options.Git.CredentialsEnvironmentVariable)}.");
        }

        if (options.Git.FetchTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Git.{nameof(options.Git.FetchTimeout)} must be positive (was {options.Git.FetchTimeout}).");
        }

        if (options.Git.FetchRetryDelay <= TimeSpan.Zero || options.Git.FetchRetryMaxDelay < options.Git.FetchRetryDelay)
        {
            failures.Add($"Git.{nameof(options.Git.FetchRetryDelay)} must be positive and at most Git.{nameof(options.Git.FetchRetryMaxDelay)} (were {options.Git.FetchRetryDelay} and {options.Git.FetchRetryMaxDelay}).");
        }

        ValidateSigning(failures, options.Git);

        if (options.Logs.MaxFileBytes < 1024)
        {
            failures.Add($"Logs.{nameof(options.Logs.MaxFileBytes)} must be at least 1024 bytes (was {options.Logs.MaxFileBytes}).");
        }

        if (options.Logs.MaxFiles < 0)
        {
            failures.Add($"Logs.{nameof(options.Logs.MaxFiles)} must not be negative (was {options.Logs.MaxFiles}).");
        }

        if (options.Ipc.MaxConnections < 1)
        {
            failures.Add($"Ipc.{nameof(options.Ipc.MaxConnections)} must be at least 1 (was {options.Ipc.MaxConnections}).");
        }

        if (options.Ipc.IdleTimeout < IpcOptions.MinIdleTimeout)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Ipc.{nameof(options.Ipc.IdleTimeout)} must be at least 1 second, such as 00:05:00 for 5 minutes (was {options.Ipc.IdleTimeout})."));
        }

        if (!TryParseMode(options.Ipc.SocketMode, out _))
        {
            failures.Add($"Ipc.{nameof(options.Ipc.SocketMode)} must be an octal mode such as 0600 (was '{options.Ipc.SocketMode}').");
        }

        if (string.IsNullOrWhiteSpace(options.ResourceControl.CgroupRoot) || options.ResourceControl.CgroupRoot.Contains("..", StringComparison.Ordinal))
        {
            failures.Add($"ResourceControl.{nameof(options.ResourceControl.CgroupRoot)} must be a relative cgroup name without '..' (was '{options.ResourceControl.CgroupRoot}').");
        }

        if (options.ResourceControl.OomPollInterval < TimeSpan.Zero)
        {
            failures.Add($"ResourceControl.{nameof(options.ResourceControl.OomPollInterval)} must be zero (read at exit only) or positive (was {options.ResourceControl.OomPollInterval}).");
        }

        if (options.Health.StartPeriod < TimeSpan.Zero)
        {
            failures.Add($"Health.{nameof(options.Health.StartPeriod)} must not be negative (was {options.Health.StartPeriod}).");
        }

        if (!Enum.IsDefined(options.UnitFiles.UnknownKeys))
        {
            failures.Add($"UnitFiles.{nameof(options.UnitFiles.UnknownKeys)} must be {nameof(UnknownKeyHandling.Error)} or {nameof(UnknownKeyHandling.Warn)} (was '{options.UnitFiles.UnknownKeys}').");
        }

        if (options.Delivery.VerifyWindow <= TimeSpan.Zero)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Delivery.{nameof(options.Delivery.VerifyWindow)} must be positive, such as 00:00:30 for 30 seconds (was {options.Delivery.VerifyWindow})."));
        }

        if (options.Delivery.HistoryLimit < 1)
        {
            failures.Add($"Delivery.{nameof(options.Delivery.HistoryLimit)} must be at least 1 (was {options.Delivery.HistoryLimit}).");
        }

        if (options.Events.SubscriberBuffer < 1)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Events.{nameof(options.Events.SubscriberBuffer)} must be at least 1 (was {options.Events.SubscriberBuffer})."));
        }

        if (options.Delivery.CrashLoopRestarts < 1)
        {
            failures.Add($"Delivery.{nameof(options.Delivery.CrashLoopRestarts)} must be at least 1 (was {options.Delivery.CrashLoopRestarts}).");
        }

        ValidateListen(failures, "Metrics", options.Metrics.Listen, 9101);
        ValidateListen(failures, "Web", options.Web.Listen, 9102);

        if (options.Web.LogLines is < 1 or > Web.WebServer.MaxLogLines)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Web.{nameof(options.Web.LogLines)} must be from 1 to {Web.WebServer.MaxLogLines} (was {options.Web.LogLines})."));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// Signed commits: required with at least one trust source, and each source set is a file the verifier can use now
    /// (read once here, so a typo in it stops the daemon at start rather than rejecting every commit later).
    /// </summary>
    private static void ValidateSigning(List<string> failures, Git.GitOptions git)
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
                Git.AllowedSignersFile.Check(allowedSigners);
            }
        }
        catch (Git.GitException ex)
        {
            failures.Add(ex.Message);
        }

        try
        {
            if (keyring is not null)
            {
                _ = Git.GpgKeyringFile.Load(keyring);
            }
        }
        catch (Git.GitException ex)
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
