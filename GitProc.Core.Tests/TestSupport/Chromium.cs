using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;

namespace GitProc.Core.Tests.TestSupport;

/// <summary>
/// Debian's headless Chromium, run the way a person would look at a page: once to print the DOM or take a screenshot,
/// or kept open and driven through the DevTools protocol. Each run has its own profile (and HOME, where the crash
/// reporter writes) in a temporary directory and leads its own process group; disposing kills the group, then any of
/// its helpers that left the group (the crash handler), waits until none is left and deletes the directory.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class Chromium : IAsyncDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly string _profile;
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly StringBuilder _stdout = new();
    private ClientWebSocket? _devTools;
    private int? _group;
    private int _nextId;

    private Chromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>What Chromium wrote on stderr, for failure messages.</summary>
    public string Errors => string.Join('\n', _errors);

    /// <summary>The chromium command, or ignores the test saying it is not installed.</summary>
    public static string Require() => Tools.Require("chromium", "chromium");

    /// <summary>
    /// Loads <paramref name="url"/> and returns the DOM once the page has loaded (its scripts run unless
    /// <paramref name="javaScript"/> is false). With scripts off, <c>--dump-dom</c> prints nothing (it reads the DOM
    /// with a script), so the DOM is read through the DevTools protocol's DOM domain instead, once the page is
    /// <paramref name="url"/> and its footer, <c>id="rendered"</c> (which ends every status page), is in.
    /// </summary>
    public static async Task<string> DumpDomAsync(string url, bool javaScript, CancellationToken cancellationToken)
    {
        string dom;
        if (javaScript)
        {
            await using var chromium = Start(["--dump-dom", url]);
            await chromium.WaitForExitAsync(cancellationToken);
            dom = chromium._stdout.ToString();
        }
        else
        {
            await using var chromium = await OpenAsync(url, cancellationToken, "--blink-settings=scriptEnabled=false");
            var deadline = DateTime.UtcNow + RunTimeout;
            do
            {
                await Task.Delay(100, cancellationToken);
                // The page may replace its document between the two calls (about:blank, then the page): then again.
                using var document = await chromium.SendAsync("DOM.getDocument", _ => { }, cancellationToken);
                var root = document!.RootElement.GetProperty("root").GetProperty("nodeId").GetInt32();
                using var html = await chromium.SendAsync("DOM.getOuterHTML", p => p.WriteNumber("nodeId", root), cancellationToken, mayFail: true);
                dom = html?.RootElement.GetProperty("outerHTML").GetString() ?? "";
            }
            while (!dom.Contains("id=\"rendered\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
        }

        Assert.That(dom, Does.Contain("</body>").And.Contain("id=\"rendered\""), $"chromium printed no whole page for {url}");
        return dom;
    }

    /// <summary>Saves a PNG of <paramref name="url"/> in a 1280×800 window to <paramref name="file"/>.</summary>
    public static async Task ScreenshotAsync(string url, string file, CancellationToken cancellationToken)
    {
        await using var chromium = Start(["--window-size=1280,800", "--hide-scrollbars", "--screenshot=" + file, url]);
        await chromium.WaitForExitAsync(cancellationToken);
    }

    /// <summary>Opens <paramref name="url"/> and connects to the page through the DevTools protocol.</summary>
    public static async Task<Chromium> OpenAsync(string url, CancellationToken cancellationToken, params string[] flags)
    {
        var chromium = Start(["--remote-debugging-port=0", .. flags, url]);
        try
        {
            // Chromium writes the port it chose, then the browser's path, into DevToolsActivePort in the profile.
            var portFile = Path.Combine(chromium._profile, "DevToolsActivePort");
            var deadline = DateTime.UtcNow + RunTimeout;
            string? port = null;
            while (port is null)
            {
                if (File.Exists(portFile) && (await File.ReadAllLinesAsync(portFile, cancellationToken)) is [var first, ..] && first.Length > 0)
                {
                    port = first;
                }
                else
                {
                    Assert.That(chromium._process.HasExited, Is.False, $"chromium exited:\n{chromium.Errors}");
                    Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"chromium wrote no DevToolsActivePort:\n{chromium.Errors}");
                    await Task.Delay(100, cancellationToken);
                }
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            string? socketUrl = null;
            while (socketUrl is null)
            {
                using var targets = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/json/list"), cancellationToken));
                socketUrl = targets.RootElement.EnumerateArray()
                    .Where(t => t.GetProperty("type").GetString() == "page")
                    .Select(t => t.GetProperty("webSocketDebuggerUrl").GetString())
                    .FirstOrDefault();
                if (socketUrl is null)
                {
                    Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"chromium has no page target:\n{chromium.Errors}");
                    await Task.Delay(100, cancellationToken);
                }
            }

            chromium._devTools = new ClientWebSocket();
            await chromium._devTools.ConnectAsync(new Uri(socketUrl), cancellationToken);
            return chromium;
        }
        catch
        {
            await chromium.DisposeAsync();
            throw;
        }
    }

    /// <summary>Evaluates a JavaScript expression in the page (<c>Runtime.evaluate</c>) and returns its value as JSON.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        using var answer = await SendAsync(
            "Runtime.evaluate",
            p =>
            {
                p.WriteString("expression", expression);
                p.WriteBoolean("returnByValue", true);
            },
            cancellationToken);
        var result = answer!.RootElement.GetProperty("result");
        return result.TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>Calls a DevTools method on the page and returns its <c>result</c>; <see langword="null"/> for an error that <paramref name="mayFail"/> allows.</summary>
    private async Task<JsonDocument?> SendAsync(string method, Action<Utf8JsonWriter> parameters, CancellationToken cancellationToken, bool mayFail = false)
    {
        var devTools = _devTools ?? throw new InvalidOperationException("Not opened with OpenAsync.");
        var id = ++_nextId;
        var request = new MemoryStream();
        using (var json = new Utf8JsonWriter(request))
        {
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteString("method", method);
            json.WriteStartObject("params");
            parameters(json);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        await devTools.SendAsync(request.ToArray(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

        // Events may come before the answer; the answer carries our id.
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await devTools.ReceiveAsync(buffer, cancellationToken);
                Assert.That(received.MessageType, Is.Not.EqualTo(WebSocketMessageType.Close), $"DevTools closed the connection:\n{Errors}");
                message.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);

            using var answer = JsonDocument.Parse(message.ToArray());
            if (answer.RootElement.TryGetProperty("id", out var answerId) && answerId.GetInt32() == id)
            {
                if (answer.RootElement.TryGetProperty("error", out var error))
                {
                    Assert.That(mayFail, Is.True, $"{method} failed: {error}");
                    return null;
                }

                return JsonDocument.Parse(answer.RootElement.GetProperty("result").GetRawText());
            }
        }
    }

    private static Chromium Start(IReadOnlyList<string> arguments)
    {
        var profile = Directory.CreateTempSubdirectory("gitproc-chromium-").FullName;

        // setsid: Chromium leads a session and process group of its own, killed whole at the end. Forked always (setsid
        // execs in place only when the caller leads no group, which depends on how the test host was started) and
        // waited for, so the exit code and the end of output are Chromium's.
        var info = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in (string[])[
            "--fork", "--wait", Require(), "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-background-networking",
            "--user-data-dir=" + profile, .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["HOME"] = profile;
        info.Environment["XDG_CONFIG_HOME"] = Path.Combine(profile, ".config");
        info.Environment["XDG_CACHE_HOME"] = Path.Combine(profile, ".cache");
        var process = Process.Start(info)!;
        var chromium = new Chromium(process, profile);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (chromium._stdout)
                {
                    chromium._stdout.Append(e.Data).Append('\n');
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                chromium._errors.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // The group is the forked child's pid (when Chromium is done before it is seen, the profile still finds its helpers).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (chromium._group is null && !process.HasExited && DateTime.UtcNow < deadline)
        {
            try
            {
                var children = File.ReadAllText($"/proc/{process.Id}/task/{process.Id}/children").Trim();
                if (children.Length > 0)
                {
                    chromium._group = int.Parse(children.Split(' ')[0], CultureInfo.InvariantCulture);
                    break;
                }
            }
            catch (IOException)
            {
                break;
            }

            Thread.Sleep(10);
        }

        return chromium;
    }

    private async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RunTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"chromium did not finish within {RunTimeout.TotalSeconds} s:\n{Errors}");
        }

        Assert.That(_process.ExitCode, Is.Zero, $"chromium failed:\n{Errors}");
    }

    /// <summary>The processes of a process group, from <c>/proc/PID/stat</c> (the fields after the name: state, ppid, pgrp).</summary>
    private static List<int> GroupMembers(int group)
    {
        var members = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z" && int.Parse(fields[2], CultureInfo.InvariantCulture) == group)
                {
                    members.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return members;
    }

    public async ValueTask DisposeAsync()
    {
        _devTools?.Dispose();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            // The group (the browser and its zygotes, renderers, utilities), then helpers that left it (the crash
            // handler starts in a session of its own) but name the profile in their command line.
            IEnumerable<int> left = ProcScan.FindByCommandLine(_profile);
            if (_group is { } group)
            {
                _ = Interop.Processes.Kill(-group, 9);
                left = left.Concat(GroupMembers(group));
            }

            left = left.Distinct().ToList();
            foreach (var pid in left)
            {
                _ = Interop.Processes.Kill(pid, 9);
            }

            if (!left.Any() || DateTime.UtcNow > deadline)
            {
                Assert.That(left, Is.Empty, "chromium processes survived SIGKILL");
                break;
            }

            await Task.Delay(100);
        }

        if (!_process.WaitForExit(5000))
        {
            _process.Kill();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // A file a killed process still had open; the directory is in /tmp.
        }
    }
}
