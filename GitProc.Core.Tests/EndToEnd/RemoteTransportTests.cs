using System.Runtime.Versioning;
using System.Text.Json;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The daemon follows private remotes on real servers started by the test on 127.0.0.1: nginx + git http-backend over
/// TLS with basic authentication, and OpenSSH with a deploy key. Pushes are applied; a wrong secret, an unknown host key
/// or a too open secret file shows as the last fetch's error in status while the last good commit keeps running and the
/// backoff counts attempts; secrets appear in no log, state or status; a force-push is followed. Needs root.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(180_000)]
[NonParallelizable]
public sealed class RemoteTransportTests : SandboxFixture
{
    private const string FastFetch = "\"FetchInterval\": \"00:00:01\", \"FetchRetryDelay\": \"00:00:00.500\", \"FetchRetryMaxDelay\": \"00:00:02\", \"FetchTimeout\": \"00:00:20\"";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    [SetUp]
    public async Task SetUp()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("needs root: starts sshd and nginx on 127.0.0.1");
        }

    }

    [TearDown]
    public async Task TearDown()
    {
        if (Sandbox is not null)
        {
            await Sandbox.DisposeAsync();
        }
    }

    [Test]
    public async Task A_private_https_remote_is_followed_and_its_failures_show_in_status_without_the_secret(CancellationToken token)
    {
        var secret = "tok-" + Guid.NewGuid().ToString("N");
        var wrong = "bad-" + Guid.NewGuid().ToString("N");
        await using var server = await HttpsGitServer.StartAsync("deploy", secret);
        var work = await NewWorkCloneAsync(server, token);
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"), work);
        await PushAsync(work, "alpha", token);

        var credentials = Path.Combine(Sandbox.Root, "git-credentials");
        GitServer.WritePrivate(credentials, $"# deploy token\nusername=deploy\npassword={secret}\n");
        await Sandbox.WriteConfigAsync($$"""
            "Git": { "RemoteUrl": "{{server.Url}}", "CredentialsFile": "{{credentials}}", "SslCaFile": "{{server.CaFile}}", {{FastFetch}} }
            """, token);
        await Sandbox.StartDaemonAsync(token);
        var running = await Sandbox.WaitRunningAsync(token, "alpha");

        // A push on the server side is applied.
        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"), work);
        await PushAsync(work, "beta", token);
        await Sandbox.WaitRunningAsync(token, "alpha", "beta");
        var ok = await WaitForStatusAsync("alpha", s => Outcome(s) is "up_to_date" or "fast_forwarded", "a good fetch", token);
        Assert.That(ok.GetProperty("remote").GetString(), Is.EqualTo(server.Url));
        Assert.That(ok.GetProperty("fetch_failures").GetInt32(), Is.Zero);
        Assert.That(server.AccessLog, Does.Contain("git-upload-pack").And.Contain("deploy"), "the fetches reached the server, authenticated");

        // A wrong token: the fetch fails, the error and the backoff show, what ran keeps running.
        GitServer.WritePrivate(credentials, wrong + "\n");
        Sandbox.WriteUnit("gamma", Sandbox.Unit("gamma"), work);
        await PushAsync(work, "gamma", token);
        var failing = await WaitForStatusAsync("alpha", s => Outcome(s) == "failed" && s.GetProperty("fetch_failures").GetInt32() >= 2, "two failed fetches", token);
        Assert.That(failing.GetProperty("last_fetch_error").GetString(), Does.Contain("Authentication failed").And.Contain(server.Url));
        Assert.That(failing.GetProperty("next_fetch").GetDateTimeOffset(), Is.GreaterThan(failing.GetProperty("last_fetch").GetDateTimeOffset()));
        var text = await Sandbox.ClientAsync(token, "status", "alpha");
        Assert.That(text.Lines[^1], Does.Match(@"^Last Fetch: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d failed, \d+ in a row \(next attempt \d\d:\d\d:\d\d\): .*Authentication failed"), text.ToString);
        Assert.That(text.Lines, Has.None.StartsWith("Git Error:"), "a fetch error is not a repository error");
        var list = await Sandbox.ListAsync();
        Assert.That(list.Keys, Is.EquivalentTo(new[] { "alpha", "beta" }), "gamma never arrived");
        Assert.That(list["alpha"].Pid, Is.EqualTo(running["alpha"]), "the last good commit keeps running");

        // A credentials file others may read is refused, naming the file and its mode.
        GitServer.WritePrivate(credentials, $"username=deploy\npassword={secret}\n");
        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await WaitForStatusAsync(
            "alpha",
            s => s.GetProperty("last_fetch_error").GetString() is { } e && e.Contains($"Permissions 0644 for {credentials} (Git:CredentialsFile) are too open", StringComparison.Ordinal),
            "the open credentials file refused",
            token);

        // Fixed: the next attempt of the backoff brings gamma.
        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await Sandbox.WaitRunningAsync(token, "alpha", "beta", "gamma");

        // A force-push (history rewritten: gamma's commit replaced by delta's) is followed.
        await Sandbox.GitInAsync(work, token, "reset", "-q", "--hard", "HEAD~1");
        Sandbox.WriteUnit("delta", Sandbox.Unit("delta"), work);
        await Sandbox.CommitAsync("delta instead of gamma", token, work);
        await Sandbox.GitInAsync(work, token, "push", "-q", "--force", "origin", "main");
        await Sandbox.WaitForListAsync(l => l.ContainsKey("delta") && !l.ContainsKey("gamma") && l["delta"].Status == "running", "the force-push is applied", token);
        Assert.That(Sandbox.DaemonOutput, Does.Contain("rewrote its history (force-push)"));

        await AssertNoSecretAsync(token, secret, wrong);
    }

    [Test]
    public async Task An_ssh_remote_is_followed_with_a_deploy_key_and_strict_host_keys(CancellationToken token)
    {
        await using var server = await SshGitServer.StartAsync();
        var work = await NewWorkCloneAsync(server, token);
        Sandbox.WriteUnit("alpha", Sandbox.Unit("alpha"), work);
        await PushAsync(work, "alpha", token);

        // The daemon's own copies, so the test can swap their content (options are read at start).
        var key = Path.Combine(Sandbox.Root, "deploy_key");
        var knownHosts = Path.Combine(Sandbox.Root, "known_hosts");
        var clientKey = await File.ReadAllTextAsync(server.ClientKey, token);
        GitServer.WritePrivate(key, clientKey);
        File.Copy(server.KnownHosts, knownHosts);
        await Sandbox.WriteConfigAsync($$"""
            "Git": { "RemoteUrl": "{{server.Url}}", "SshKeyFile": "{{key}}", "SshKnownHostsFile": "{{knownHosts}}", {{FastFetch}} }
            """, token);
        await Sandbox.StartDaemonAsync(token);
        var running = await Sandbox.WaitRunningAsync(token, "alpha");

        Sandbox.WriteUnit("beta", Sandbox.Unit("beta"), work);
        await PushAsync(work, "beta", token);
        await Sandbox.WaitRunningAsync(token, "alpha", "beta");

        // A key the server does not know.
        GitServer.WritePrivate(key, await File.ReadAllTextAsync(server.OtherKey, token));
        Sandbox.WriteUnit("gamma", Sandbox.Unit("gamma"), work);
        await PushAsync(work, "gamma", token);
        var denied = await WaitForStatusAsync("alpha", s => Error(s).Contains("Permission denied (publickey)", StringComparison.Ordinal), "the wrong key refused", token);
        Assert.That(denied.GetProperty("fetch_failures").GetInt32(), Is.GreaterThanOrEqualTo(1));

        // The right key, but a server whose host key is not the known one.
        GitServer.WritePrivate(key, clientKey);
        File.Copy(server.WrongKnownHosts, knownHosts, overwrite: true);
        await WaitForStatusAsync("alpha", s => Error(s).Contains("Host key verification failed", StringComparison.Ordinal), "the unknown host key refused", token);

        // A key file others may read.
        File.Copy(server.KnownHosts, knownHosts, overwrite: true);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await WaitForStatusAsync("alpha", s => Error(s).Contains($"Permissions 0644 for {key} (Git:SshKeyFile) are too open", StringComparison.Ordinal), "the open key refused", token);
        var list = await Sandbox.ListAsync();
        Assert.That(list.Keys, Is.EquivalentTo(new[] { "alpha", "beta" }));
        Assert.That(list["alpha"].Pid, Is.EqualTo(running["alpha"]), "the last good commit keeps running");

        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await Sandbox.WaitRunningAsync(token, "alpha", "beta", "gamma");
        var recovered = await WaitForStatusAsync("alpha", s => Outcome(s) != "failed", "a good fetch", token);
        Assert.That(recovered.GetProperty("fetch_failures").GetInt32(), Is.Zero);
        await AssertNoSecretAsync(token, clientKey.Split('\n')[1]);
    }

    private static string? Outcome(JsonElement status) => status.GetProperty("last_fetch_outcome").GetString();

    private static string Error(JsonElement status) => status.GetProperty("last_fetch_error").GetString() ?? "";

    /// <summary>A clone of the server's repository by path: what pushes "on the server side".</summary>
    private async Task<string> NewWorkCloneAsync(GitServer server, CancellationToken token)
    {
        var work = Path.Combine(server.Directory, "work");
        await Sandbox.GitInAsync(server.Directory, token, "init", "-q", "-b", "main", work);
        await Sandbox.GitInAsync(work, token, "remote", "add", "origin", server.BareRepository);
        return work;
    }

    private async Task PushAsync(string work, string message, CancellationToken token)
    {
        await Sandbox.CommitAsync(message, token, work);
        await Sandbox.GitInAsync(work, token, "push", "-q", "origin", "main");
    }

    /// <summary>Polls <c>status NAME --json</c> until <paramref name="condition"/> holds.</summary>
    private async Task<JsonElement> WaitForStatusAsync(string service, Func<JsonElement, bool> condition, string what, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var result = await Sandbox.ClientAsync(token, "status", service, "--json");
            Assert.That(result.ExitCode, Is.Zero, result.ToString);
            var status = JsonDocument.Parse(result.Stdout).RootElement.Clone();
            if (condition(status))
            {
                return status;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for {what}; status was {result.Stdout}\n--- daemon output ---\n{Sandbox.DaemonOutput}");
            }

            await Task.Delay(200, token);
        }
    }

    /// <summary>No secret in the daemon's output, its state, logs and history files, the repository's config, or status --json.</summary>
    private async Task AssertNoSecretAsync(CancellationToken token, params string[] secrets)
    {
        var status = await Sandbox.ClientAsync(token, "status", "alpha", "--json");
        var history = await Sandbox.ClientAsync(token, "history", "--json");
        var places = new Dictionary<string, string>
        {
            ["daemon output"] = Sandbox.DaemonOutput,
            ["status --json"] = status.Stdout,
            ["history --json"] = history.Stdout,
            ["repository config"] = await File.ReadAllTextAsync(Path.Combine(Sandbox.Repo, ".git", "config"), token),
        };
        foreach (var directory in new[] { Path.GetDirectoryName(Sandbox.State)!, Sandbox.Logs })
        {
            // The lock file is held open exclusively by the daemon, and empty.
            foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)))
            {
                places[file] = await File.ReadAllTextAsync(file, token);
            }
        }

        foreach (var (place, content) in places)
        {
            foreach (var secret in secrets)
            {
                Assert.That(content, Does.Not.Contain(secret), $"a secret appeared in {place}");
            }
        }
    }
}
