using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.Json;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// A temporary directory holding a real units repository (made by <c>gitproc init</c>), the real daemon running as a
/// process with its socket, state and logs inside the directory, and the real CLI run as a process against it.
/// Disposing stops the daemon with SIGTERM, fails if any process that worked or ran inside the directory survived,
/// and deletes the directory.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class GitProcSandbox : IAsyncDisposable
{
    /// <summary>How long a commit, a start or a stop may take to show; generous, for a loaded 2-core machine.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(90);
    private static readonly string[] GitProcVariables = ["GITPROC_SOCKET", "GITPROC_REPO", "GITPROC_STATE", "GITPROC_LOG_DIR"];

    private readonly ConcurrentQueue<string> _daemonOutput = new();
    private Process? _daemon;

    private GitProcSandbox(string root)
    {
        Root = root;
        Repo = Path.Combine(root, "repo");
        Socket = Path.Combine(root, "gitproc.sock");
        State = Path.Combine(root, "state", "state.json");
        Logs = Path.Combine(root, "logs");

        // A number only this sandbox's services sleep for, so a survivor is findable even outside the directory.
        SleepSeconds = "3600." + Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);

        // Its own cgroup root, so sandboxes of test runs side by side never share (or sweep) each other's cgroups.
        CgroupRoot = "gitproc-e2e-" + Path.GetFileName(root)["gitproc-e2e-".Length..];
        ConfigFile = Path.Combine(root, "gitproc.json");
    }

    public string Root { get; }

    public string Repo { get; }

    public string Socket { get; }

    public string State { get; }

    public string Logs { get; }

    public string SleepSeconds { get; }

    /// <summary>The daemon's cgroup root (relative to each hierarchy), unique to this sandbox.</summary>
    public string CgroupRoot { get; }

    /// <summary>The daemon's <c>--config</c> file: this sandbox's cgroup root.</summary>
    public string ConfigFile { get; }

    /// <summary>The daemon's arguments: every path inside the sandbox.</summary>
    public string[] DaemonArguments => ["daemon", "--repo", Repo, "--state", State, "--log-dir", Logs, "--socket", Socket, "--config", ConfigFile];

    /// <summary>The daemon's pid while it runs.</summary>
    public int DaemonPid => _daemon?.Id ?? throw new InvalidOperationException("The daemon is not running.");

    /// <summary>What the daemon printed so far (for failure messages).</summary>
    public string DaemonOutput => string.Join('\n', _daemonOutput);

    /// <summary>The built CLI, copied next to the test assembly by the project reference.</summary>
    public static string CliDll
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "gitproc.dll");
            if (!File.Exists(path))
            {
                Assert.Fail($"gitproc.dll was not found next to the tests ({path}); build GitProc.sln first.");
            }

            return path;
        }
    }

    /// <summary>The <c>dotnet</c> host that runs the tests, so the CLI runs on the same runtime.</summary>
    public static string DotnetHost
    {
        get
        {
            var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
            {
                return fromSdk;
            }

            var self = Environment.ProcessPath;
            return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        }
    }

    /// <summary>Creates the directory and the repository with <c>gitproc init --repo</c>.</summary>
    public static async Task<GitProcSandbox> CreateAsync(CancellationToken cancellationToken)
    {
        var root = Path.Combine(Path.GetTempPath(), "gitproc-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var sandbox = new GitProcSandbox(root);
        await File.WriteAllTextAsync(sandbox.ScriptPath, Script, cancellationToken);
        await sandbox.WriteConfigAsync(cancellationToken: cancellationToken);
        var init = await sandbox.CliAsync(["init", "--repo", sandbox.Repo], cancellationToken: cancellationToken);
        Assert.That(init.ExitCode, Is.Zero, init.ToString);
        Assert.That(init.Stdout, Is.EqualTo($"Initialized GitProc repository in {sandbox.Repo}\n"));
        return sandbox;
    }

    // The service program: says hello (for logs), then waits on a child, so that stopping only the main process
    // would leave the child behind. With "stubborn" it ignores SIGTERM, so only SIGKILL ends it.
    private const string Script = """
        #!/bin/sh
        echo "hello from $1"
        if [ "$3" = stubborn ]; then trap '' TERM; fi
        if [ "$3" = exit ]; then sleep 1; echo "exiting with $4"; exit "$4"; fi
        sleep "$2" &
        while true; do wait; done
        """;

    private string ScriptPath => Path.Combine(Root, "service.sh");

    /// <summary>
    /// Writes the daemon's config file: the sandbox's cgroup root, plus <paramref name="more"/> (JSON members, such as
    /// <c>"Delivery": { "VerifyWindow": "00:00:03" }</c>). Takes effect at the next daemon start.
    /// </summary>
    public Task WriteConfigAsync(string? more = null, CancellationToken cancellationToken = default) =>
        File.WriteAllTextAsync(
            ConfigFile,
            $$"""{ "ResourceControl": { "CgroupRoot": "{{CgroupRoot}}" }{{(more is null ? "" : ", " + more)}} }""",
            cancellationToken);

    /// <summary>
    /// Writes a config where <paramref name="section"/> (<c>Metrics</c>, <c>Web</c>) listens on a free port of 127.0.0.1,
    /// plus <paramref name="more"/> as in <see cref="WriteConfigAsync"/>; returns the port.
    /// </summary>
    public async Task<int> WriteListenConfigAsync(string section, string? more = null)
    {
        var port = Scrape.FreePort();
        var listen = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\"{section}\": {{ \"Listen\": \"127.0.0.1:{port}\" }}");
        await WriteConfigAsync(more is null ? listen : listen + ", " + more);
        return port;
    }

    /// <summary>A unit running the sandbox's script: a tree of sh and sleep that logs one line first.</summary>
    public string Unit(string name, string extra = "", string mode = "") => $"""
        [Unit]
        Description=e2e service {name}

        [Service]
        ExecStart=/bin/sh {ScriptPath} {name} {SleepSeconds} {mode}
        {extra}

        """;

    /// <summary>Writes a unit file into the repository's working tree, or into <paramref name="directory"/>'s.</summary>
    public void WriteUnit(string name, string content, string? directory = null) =>
        File.WriteAllText(Path.Combine(directory ?? Repo, name + ".service"), content);

    public void RemoveUnit(string name, string? directory = null) => File.Delete(Path.Combine(directory ?? Repo, name + ".service"));

    /// <summary>
    /// Commits everything in the working tree on main with the git CLI (in the repository, or in the clone at
    /// <paramref name="directory"/>); returns the full hash.
    /// </summary>
    public async Task<string> CommitAsync(string message, CancellationToken cancellationToken, string? directory = null)
    {
        directory ??= Repo;
        await GitInAsync(directory, cancellationToken, "add", "-A");
        await GitInAsync(directory, cancellationToken, "-c", "user.name=GitProc E2E", "-c", "user.email=e2e@gitproc.invalid", "-c", "commit.gpgsign=false",
            "commit", "-q", "-m", message);
        return await GitInAsync(directory, cancellationToken, "rev-parse", "HEAD");
    }

    /// <summary>
    /// A remote for the daemon to follow: a bare repository inside the sandbox (its <c>file://</c> URL) and a clone of it
    /// (<c>Upstream</c>) where tests write units, commit and push.
    /// </summary>
    public async Task<(string Url, string Upstream)> CreateRemoteAsync(CancellationToken cancellationToken)
    {
        var remote = Path.Combine(Root, "remote.git");
        var upstream = Path.Combine(Root, "upstream");
        await GitInAsync(Root, cancellationToken, "init", "-q", "--bare", "-b", "main", remote);
        await GitInAsync(Root, cancellationToken, "clone", "-q", remote, upstream);
        return (new Uri(remote).AbsoluteUri, upstream);
    }

    /// <summary>Runs git in the repository; fails the test on a non-zero exit; returns trimmed stdout.</summary>
    public Task<string> GitAsync(CancellationToken cancellationToken, params string[] args) => GitInAsync(Repo, cancellationToken, args);

    /// <summary>Runs git in <paramref name="directory"/>; fails the test on a non-zero exit; returns trimmed stdout.</summary>
    public async Task<string> GitInAsync(string directory, CancellationToken cancellationToken, params string[] args)
    {
        var result = await RunAsync("git", ["-C", directory, .. args], null, cancellationToken);
        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        return result.Stdout.Trim();
    }

    /// <summary>
    /// A <c>gitproc</c> executable to run instead of <c>dotnet gitproc.dll</c>, from <c>GITPROC_E2E_EXECUTABLE</c>:
    /// <c>.ci/run</c> points it at the NativeAOT publish, so the build the README recommends passes these tests too.
    /// </summary>
    public static string? Executable =>
        Environment.GetEnvironmentVariable("GITPROC_E2E_EXECUTABLE") is { Length: > 0 } executable ? executable : null;

    /// <summary>
    /// Runs <c>gitproc ARGS</c> (no GITPROC_* variables unless given) in <paramref name="workingDirectory"/> (default the
    /// sandbox's root) and collects its output; through <paramref name="wrapper"/> (a command that execs the rest, such
    /// as <c>setpriv … --</c>) when given.
    /// </summary>
    public Task<CliResult> CliAsync(
        string[] args,
        IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default,
        IReadOnlyList<string>? wrapper = null,
        string? workingDirectory = null)
    {
        string[] command = Executable is { } executable ? [executable, .. args] : [DotnetHost, CliDll, .. args];
        if (wrapper is { Count: > 0 })
        {
            command = [.. wrapper, .. command];
        }

        return RunAsync(command[0], command[1..], environment, cancellationToken, workingDirectory);
    }

    /// <summary>The checkout the tests were built from (where <c>GitProc.sln</c> is), for the shipped samples.</summary>
    public static string SourceRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "GitProc.sln")))
                {
                    return directory.FullName;
                }
            }

            Assert.Fail($"GitProc.sln was not found above {AppContext.BaseDirectory}.");
            return "";
        }
    }

    /// <summary>
    /// The environment a shipped script gets when run against this sandbox, as an operator would set it:
    /// <c>GITPROC_REPO</c>, <c>GITPROC_SOCKET</c> and <c>GITPROC</c> (the command that runs the CLI), and a Git identity.
    /// </summary>
    public IReadOnlyDictionary<string, string> ScriptEnvironment => new Dictionary<string, string>
    {
        ["GITPROC_REPO"] = Repo,
        ["GITPROC_SOCKET"] = Socket,
        ["GITPROC"] = Executable ?? $"{DotnetHost} {CliDll}",
        ["GIT_AUTHOR_NAME"] = "GitProc E2E",
        ["GIT_AUTHOR_EMAIL"] = "e2e@gitproc.invalid",
        ["GIT_COMMITTER_NAME"] = "GitProc E2E",
        ["GIT_COMMITTER_EMAIL"] = "e2e@gitproc.invalid",
    };

    /// <summary>
    /// Runs a shipped script (a path under <see cref="SourceRoot"/>) with <paramref name="interpreter"/> as an operator
    /// would, against this sandbox (<see cref="ScriptEnvironment"/>), in the sandbox's directory.
    /// </summary>
    /// <param name="script">The script's path under <see cref="SourceRoot"/>.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <param name="interpreter">What runs it: <c>/bin/sh</c>, <c>python3</c>, <c>ansible-playbook</c>, ….</param>
    /// <param name="environment">More variables, over <see cref="ScriptEnvironment"/>.</param>
    public Task<CliResult> ScriptAsync(
        string script, string[] args, CancellationToken cancellationToken, string interpreter = "/bin/sh", IReadOnlyDictionary<string, string>? environment = null) =>
        RunAsync(
            interpreter,
            [Path.Combine(SourceRoot, script), .. args],
            environment is null ? ScriptEnvironment : ScriptEnvironment.Concat(environment).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value),
            cancellationToken);

    /// <summary>Runs any program in the sandbox's directory (no GITPROC_* variables unless given) and collects its output.</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <param name="environment">More variables.</param>
    /// <param name="timeout">How long it may take before the test fails (default 90 s).</param>
    public Task<CliResult> RunToolAsync(
        string fileName, string[] args, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        RunAsync(fileName, args, environment, cancellationToken, timeout: timeout);

    /// <summary>
    /// Starts a shipped script in the background, as <see cref="ScriptAsync"/> runs it, with its output collected into
    /// <paramref name="output"/>. The caller stops it; a script left running fails the sandbox's survivor check.
    /// </summary>
    public Process StartScript(string script, string[] args, string interpreter, ConcurrentQueue<string> output) =>
        StartCollecting(interpreter, [Path.Combine(SourceRoot, script), .. args], ScriptEnvironment, output);

    /// <summary>Starts a process in the sandbox's directory, each line of its stdout and stderr going to <paramref name="output"/>.</summary>
    private Process StartCollecting(string fileName, string[] args, IReadOnlyDictionary<string, string>? environment, ConcurrentQueue<string> output)
    {
        var process = new Process { StartInfo = StartInfo(fileName, args, environment) };
        process.StartInfo.WorkingDirectory = Root;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;

        void Add(string? line)
        {
            if (line is not null)
            {
                output.Enqueue(line);
            }
        }
    }

    /// <summary>
    /// Starts a client command that runs until stopped (<c>events</c>, <c>logs -f</c>) against this sandbox's daemon,
    /// with its output redirected; the caller reads it, stops the process and disposes it.
    /// </summary>
    public Process StartClient(params string[] args)
    {
        string[] command = Executable is { } executable ? [executable, "--socket", Socket, .. args] : [DotnetHost, CliDll, "--socket", Socket, .. args];
        var process = new Process { StartInfo = StartInfo(command[0], command[1..], null) };
        process.StartInfo.WorkingDirectory = Root;
        process.Start();
        process.StandardInput.Close();
        return process;
    }

    /// <summary>Runs a client command against this sandbox's daemon (<c>--socket</c> first).</summary>
    public Task<CliResult> ClientAsync(CancellationToken cancellationToken, params string[] args) =>
        CliAsync(["--socket", Socket, .. args], cancellationToken: cancellationToken);

    private static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var variable in GitProcVariables)
        {
            info.Environment.Remove(variable);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    private async Task<CliResult> RunAsync(
        string fileName,
        string[] args,
        IReadOnlyDictionary<string, string>? environment,
        CancellationToken cancellationToken,
        string? workingDirectory = null,
        TimeSpan? timeout = null)
    {
        var limit = timeout ?? ProcessTimeout;
        using var process = new Process { StartInfo = StartInfo(fileName, args, environment) };
        process.StartInfo.WorkingDirectory = workingDirectory ?? Root;
        process.Start();
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var expiry = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        expiry.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(expiry.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} {string.Join(' ', args)} did not finish within {limit.TotalSeconds} s.");
        }

        return new CliResult(args, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Starts <c>gitproc daemon</c> with every path inside the sandbox and waits until its socket answers (or, with
    /// <paramref name="connect"/> false, until the socket file exists: the daemon then has served no client yet).
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="connect">Whether to wait for an answer rather than for the socket file.</param>
    /// <param name="wrapper">
    /// A command that runs the daemon: <c>prlimit --nofile=… --</c> execs it, so <see cref="DaemonPid"/> is the daemon's;
    /// with one that stays its parent (<c>unshare --fork</c>, a shell), <see cref="DaemonPid"/> is the wrapper's. None by default.
    /// </param>
    /// <param name="environment">More environment variables for the daemon (<c>NOTIFY_SOCKET</c>, say).</param>
    public async Task StartDaemonAsync(
        CancellationToken cancellationToken, bool connect = true, IReadOnlyList<string>? wrapper = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        Assert.That(_daemon, Is.Null, "The daemon is already running.");
        string[] command = Executable is { } executable ? [executable, .. DaemonArguments] : [DotnetHost, CliDll, .. DaemonArguments];
        if (wrapper is { Count: > 0 })
        {
            command = [.. wrapper, .. command];
        }

        var daemon = StartCollecting(command[0], command[1..], environment, _daemonOutput);
        _daemon = daemon;

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(connect ? await AnswersAsync(cancellationToken) : File.Exists(Socket)))
        {
            if (daemon.HasExited)
            {
                Assert.Fail($"The daemon exited with {daemon.ExitCode} before listening:\n{DaemonOutput}");
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The daemon did not answer on {Socket} within 30 s:\n{DaemonOutput}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Socket))
        {
            return false;
        }

        try
        {
            using var probe = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(Socket), cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>SIGTERMs the daemon and waits for it to exit; returns its exit code.</summary>
    public async Task<int> StopDaemonAsync()
    {
        var daemon = _daemon ?? throw new InvalidOperationException("The daemon is not running.");
        _ = Interop.Processes.Kill(daemon.Id, 15);

        // HasExited is polled rather than WaitForExitAsync alone: the latter also waits for the output pipes to close,
        // which a surviving service holding them would prevent; survivors are checked separately.
        var exited = await ProcScan.WaitUntilAsync(() => daemon.HasExited, TimeSpan.FromSeconds(40));
        if (!exited)
        {
            daemon.Kill(entireProcessTree: true);
            await daemon.WaitForExitAsync(CancellationToken.None);
            _daemon = null;
            daemon.Dispose();
            Assert.Fail($"The daemon did not exit within 40 s of SIGTERM:\n{DaemonOutput}");
        }

        daemon.WaitForExit(5_000);
        var code = daemon.ExitCode;
        _daemon = null;
        daemon.Dispose();
        return code;
    }

    /// <summary>
    /// Kills the daemon with SIGKILL, as a crash or the OOM killer would, and waits until it is gone; its services are
    /// left as they are.
    /// </summary>
    public async Task KillDaemonAsync()
    {
        var daemon = _daemon ?? throw new InvalidOperationException("The daemon is not running.");
        _ = Interop.Processes.Kill(daemon.Id, 9);
        Assert.That(await ProcScan.WaitUntilAsync(() => daemon.HasExited, TimeSpan.FromSeconds(30)), Is.True, "the daemon survived SIGKILL");
        _daemon = null;
        daemon.Dispose();
    }

    /// <summary>Live processes that ran inside the sandbox or sleep for its number, other than the daemon.</summary>
    public IReadOnlyList<int> FindProcesses() =>
        ProcScan.FindByCommandLine(Root).Concat(ProcScan.FindByCommandLine(SleepSeconds))
            .Distinct()
            .Where(pid => pid != _daemon?.Id)
            .ToList();

    /// <summary>Fails (after killing them) if any process of the sandbox outlived the daemon.</summary>
    public async Task AssertNoSurvivorsAsync()
    {
        if (await ProcScan.WaitUntilAsync(() => FindProcesses().Count == 0, TimeSpan.FromSeconds(3)))
        {
            return;
        }

        var survivors = FindProcesses().Select(Describe).ToList();
        foreach (var pid in FindProcesses())
        {
            _ = Interop.Processes.Kill(pid, 9);
        }

        Assert.Fail($"Processes survived the daemon:\n{string.Join('\n', survivors)}\n--- daemon output ---\n{DaemonOutput}");
    }

    /// <summary>
    /// Removes this sandbox's cgroup root from every hierarchy, its services' cgroups first (killing what is left in
    /// them): a daemon stopped cleanly leaves none, one that died (a failed test) would leave them for good.
    /// </summary>
    private async Task RemoveCgroupsAsync()
    {
        const string Mount = "/sys/fs/cgroup";
        if (!Directory.Exists(Mount))
        {
            return;
        }

        foreach (var hierarchy in Directory.EnumerateDirectories(Mount).Prepend(Mount))
        {
            var root = Path.Join(hierarchy, CgroupRoot);
            if (!Directory.Exists(root))
            {
                continue;
            }

            var cgroups = Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories)
                .OrderByDescending(path => path.Length)
                .Append(root);
            foreach (var cgroup in cgroups)
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Join(cgroup, "cgroup.procs")))
                    {
                        _ = Interop.Processes.Kill(int.Parse(line, CultureInfo.InvariantCulture), 9);
                    }

                    // rmdir only (a cgroup's control files cannot be deleted); a killed process may take a moment to leave.
                    _ = await ProcScan.WaitUntilAsync(() => !File.ReadLines(Path.Join(cgroup, "cgroup.procs")).Any(), TimeSpan.FromSeconds(2));
                    Directory.Delete(cgroup);
                }
                catch (IOException)
                {
                    // Still busy or already gone: nothing more a test can do.
                }
            }
        }
    }

    private static string Describe(int pid)
    {
        try
        {
            return $"{pid}: {File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')}";
        }
        catch (IOException)
        {
            return $"{pid}: (gone)";
        }
    }

    /// <summary>Sends one request line on a fresh connection and returns the parsed response.</summary>
    public async Task<JsonElement> RequestAsync(string line)
    {
        await using var client = await RawIpcClient.ConnectAsync(Socket);
        using var response = await client.RequestAsync(line);
        return response.RootElement.Clone();
    }

    /// <summary>The daemon's <c>status</c> of one service (its <c>data</c>), asserting the request succeeded.</summary>
    public async Task<JsonElement> StatusAsync(string service)
    {
        var response = await RequestAsync($$"""{"command":"status","service":"{{service}}"}""");
        Assert.That(response.GetProperty("status").GetString(), Is.EqualTo("success"), response.ToString);
        return response.GetProperty("data");
    }

    /// <summary>The daemon's <c>list</c>, by name.</summary>
    public async Task<IReadOnlyDictionary<string, ListedService>> ListAsync()
    {
        var response = await RequestAsync("""{"command":"list"}""");
        Assert.That(response.GetProperty("status").GetString(), Is.EqualTo("success"), response.ToString);
        return response.GetProperty("data").GetProperty("services").EnumerateArray()
            .Select(s => new ListedService(
                s.GetProperty("name").GetString()!,
                s.GetProperty("status").GetString()!,
                OptionalInt(s, "pid"),
                OptionalInt(s, "last_exit_code")))
            .ToDictionary(s => s.Name);
    }

    private static int? OptionalInt(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;

    /// <summary>Polls <c>list</c> until <paramref name="condition"/> holds; fails after <see cref="Deadline"/>.</summary>
    public async Task<IReadOnlyDictionary<string, ListedService>> WaitForListAsync(
        Func<IReadOnlyDictionary<string, ListedService>, bool> condition, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var list = await ListAsync();
            if (condition(list))
            {
                return list;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}; the list was: {string.Join(", ", list.Values)}\n--- daemon output ---\n{DaemonOutput}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Waits until every named service runs; returns their pids.</summary>
    public async Task<IReadOnlyDictionary<string, int>> WaitRunningAsync(CancellationToken cancellationToken, params string[] names)
    {
        var list = await WaitForListAsync(
            l => names.All(n => l.TryGetValue(n, out var s) && s is { Status: "running", Pid: not null }),
            $"{string.Join(", ", names)} run",
            cancellationToken);
        return names.ToDictionary(n => n, n => list[n].Pid!.Value);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_daemon is not null)
            {
                var code = await StopDaemonAsync();
                Assert.That(code, Is.Zero, $"The daemon's exit code after SIGTERM.\n{DaemonOutput}");
            }

            await AssertNoSurvivorsAsync();
        }
        finally
        {
            foreach (var pid in FindProcesses())
            {
                _ = Interop.Processes.Kill(pid, 9);
            }

            await RemoveCgroupsAsync();
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // A process killed just now may still be closing a file; the OS cleans /tmp eventually.
            }
        }
    }
}
