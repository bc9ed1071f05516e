using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The real daemon's status page (<c>Web:Listen</c>) as a real browser shows it: headless Chromium prints the DOM (with
/// JavaScript on and off), takes a screenshot, and, driven through the DevTools protocol, follows a service's log live.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(180_000)]
public sealed class WebTests : SandboxFixture
{
    private int _port;

    [SetUp]
    public async Task SetUp()
    {
        _port = await Sandbox.WriteListenConfigAsync("Web");
    }

    private string Url(string path) => $"http://127.0.0.1:{_port}{path}";

    /// <summary>Two services, one of them stopped by the operator; returns the commit.</summary>
    private async Task<string> StartTwoServicesAsync(CancellationToken token)
    {
        Sandbox.WriteUnit("web", Sandbox.Unit("web"));
        Sandbox.WriteUnit("db", Sandbox.Unit("db"));
        var commit = await Sandbox.CommitAsync("web & <db>", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "web", "db");
        var stop = await Sandbox.ClientAsync(token, "stop", "db");
        Assert.That(stop.ExitCode, Is.Zero, stop.ToString);
        await Eventually.TrueAsync(() => Sandbox.DaemonOutput.Contains("Serving the status page on", StringComparison.Ordinal), "the page is served");
        return commit;
    }

    /// <summary>The state and PID that <c>gitproc status NAME</c> prints.</summary>
    private async Task<(string State, string Pid)> StatusAsync(string name, CancellationToken token)
    {
        var status = await Sandbox.ClientAsync(token, "status", name);
        Assert.That(status.ExitCode, Is.Zero, status.ToString);
        var state = Regex.Match(status.Stdout, "^Status: (.+)$", RegexOptions.Multiline).Groups[1].Value;
        var pid = Regex.Match(status.Stdout, "^PID: ([0-9]+)$", RegexOptions.Multiline) is { Success: true } m ? m.Groups[1].Value : "-";
        return (state, pid);
    }

    /// <summary>A service's row of the services table in a DOM: its state and PID cells, and whether its name links to its page.</summary>
    private static (string State, string Pid, bool Linked) Row(string dom, string name)
    {
        var row = Regex.Match(dom, $"<tr data-service=\"{name}\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.That(row.Success, Is.True, $"no row for {name}:\n{dom}");
        var cells = row.Groups[1].Value;
        string Cell(string field) => Regex.Match(cells, $"data-field=\"{field}\"[^>]*>([^<]*)<").Groups[1].Value;
        return (Cell("state"), Cell("pid"), cells.Contains($"<a href=\"/services/{name}\">{name}</a>", StringComparison.Ordinal));
    }

    [Test]
    public async Task The_front_page_in_Chromium_shows_each_service_as_gitproc_status_does_with_JavaScript_on_and_off(CancellationToken token)
    {
        Chromium.Require();
        var commit = await StartTwoServicesAsync(token);

        var withScript = await Chromium.DumpDomAsync(Url("/"), javaScript: true, token);
        var withoutScript = await Chromium.DumpDomAsync(Url("/"), javaScript: false, token);

        foreach (var name in new[] { "web", "db" })
        {
            var status = await StatusAsync(name, token);
            Assert.That(Row(withScript, name), Is.EqualTo((status.State, status.Pid, true)), $"{name} with JavaScript:\n{withScript}");
            Assert.That(Row(withoutScript, name), Is.EqualTo((status.State, status.Pid, true)), $"{name} without JavaScript:\n{withoutScript}");
        }

        Assert.That(Row(withScript, "db").State, Is.EqualTo("stopped"));
        Assert.That(Row(withScript, "web").Pid, Does.Match("^[0-9]+$"));
        foreach (var dom in new[] { withScript, withoutScript })
        {
            Assert.That(dom, Does.Contain($"<dt>Applied commit</dt><dd><code>{commit[..7]}</code> web &amp; &lt;db&gt;</dd>"), dom);
            Assert.That(Regex.IsMatch(dom, $"<table id=\"history\">.*<td><code>{commit[..7]}</code></td>.*<td>web &amp; &lt;db&gt;</td>", RegexOptions.Singleline), Is.True, dom);
        }

        // Without JavaScript the page reloads itself.
        Assert.That(withoutScript, Does.Contain("<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>"));

        var servicePage = await Chromium.DumpDomAsync(Url("/services/web"), javaScript: false, token);
        Assert.That(servicePage, Does.Match(@"<div id=""log"" [^>]*><div>\[[0-9: -]+\] hello from web</div>"), servicePage);
        Assert.That(servicePage, Does.Contain("<span data-field=\"state\" class=\"running\">running</span>"), servicePage);
        var missing = await Chromium.DumpDomAsync(Url("/services/nope"), javaScript: false, token);
        Assert.That(missing, Does.Contain("<h1>Not found</h1>").And.Contain("There is no service named nope."));
    }

    [Test]
    public async Task A_screenshot_of_the_front_page_is_a_1280x800_png(CancellationToken token)
    {
        Chromium.Require();
        await StartTwoServicesAsync(token);

        // Outside the sandbox, which is deleted before the results collect their attachments; one file, overwritten each run.
        var file = Path.Combine(Path.GetTempPath(), "gitproc-status-page.png");
        File.Delete(file);
        await Chromium.ScreenshotAsync(Url("/"), file, token);

        var png = await File.ReadAllBytesAsync(file, token);
        Assert.That(png.Length, Is.GreaterThan(1000), "a page with a table is not a blank image");
        Assert.That(png[..8], Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        Assert.That(System.Text.Encoding.ASCII.GetString(png, 12, 4), Is.EqualTo("IHDR"));
        Assert.That((BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))), Is.EqualTo((1280, 800)));
        TestContext.AddTestAttachment(file, "The status page's front page: two services (web running, db stopped), the applied commit and the delivery history");
    }

    [Test]
    public async Task A_line_a_service_logs_after_the_page_loaded_appears_in_Chromium_within_2_seconds(CancellationToken token)
    {
        Chromium.Require();

        // The service logs a line whenever the test drops a file, so the test decides when the line is written.
        var inbox = Path.Combine(Sandbox.Root, "say");
        var script = Path.Combine(Sandbox.Root, "talker.sh");
        await File.WriteAllTextAsync(script, """
            echo "talker ready"
            while :; do
              if [ -e "$1" ]; then cat "$1"; rm -f "$1"; fi
              sleep 0.05
            done
            """, token);
        Sandbox.WriteUnit("talker", $"[Service]\nExecStart=/bin/sh {script} {inbox}\n");
        await Sandbox.CommitAsync("talker", token);
        await Sandbox.StartDaemonAsync(token);
        await Sandbox.WaitRunningAsync(token, "talker");
        var logFile = Path.Combine(Sandbox.Logs, "talker.log");
        await Eventually.TrueAsync(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains("talker ready", StringComparison.Ordinal), "the talker is ready");

        await using var chromium = await Chromium.OpenAsync(Url("/services/talker"), token);
        await Eventually.TrueAsync(
            async () => (await chromium.EvaluateAsync("(document.getElementById('live') || {}).textContent", token)).ToString() == "Following the log live.",
            "the page follows the log");
        var before = (await chromium.EvaluateAsync("document.getElementById('log').textContent", token)).GetString();
        Assert.That(before, Does.Contain("talker ready"));

        var marker = "marker-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(inbox + ".tmp", $"{marker} <b>not bold</b>\n", token);
        File.Move(inbox + ".tmp", inbox);

        // Timed from when the daemon has stored the line (what the page is responsible for), and in total.
        var total = Stopwatch.StartNew();
        TimeSpan? stored = null;
        TimeSpan? shown = null;
        while (shown is null && total.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (stored is null && File.ReadAllText(logFile).Contains(marker, StringComparison.Ordinal))
            {
                stored = total.Elapsed;
            }

            var text = (await chromium.EvaluateAsync("document.getElementById('log').textContent", token)).GetString();
            if (text!.Contains(marker, StringComparison.Ordinal))
            {
                shown = total.Elapsed;
                stored ??= shown;
            }
            else
            {
                await Task.Delay(50, token);
            }
        }

        Assert.That(shown, Is.Not.Null, $"the line never appeared in the page (stored after {stored}):\n{chromium.Errors}");
        TestContext.Out.WriteLine($"the line was stored {stored!.Value.TotalMilliseconds:0} ms and shown {shown!.Value.TotalMilliseconds:0} ms after the test asked for it");
        Assert.That(shown - stored, Is.LessThan(TimeSpan.FromSeconds(2)), $"stored after {stored}, shown after {shown}");
        var lastLine = (await chromium.EvaluateAsync("document.getElementById('log').lastElementChild.innerHTML", token)).GetString();
        Assert.That(lastLine, Does.EndWith($"{marker} &lt;b&gt;not bold&lt;/b&gt;"), "the line is shown as text, not markup");
    }

    [Test]
    public async Task A_taken_port_leaves_the_daemon_and_its_services_running_and_says_why()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, _port);
        squatter.Start();
        Sandbox.WriteUnit("web", Sandbox.Unit("web"));
        await Sandbox.CommitAsync("web", CancellationToken.None);
        await Sandbox.StartDaemonAsync(CancellationToken.None);
        await Sandbox.WaitRunningAsync(CancellationToken.None, "web");

        await Eventually.TrueAsync(
            () => Sandbox.DaemonOutput.Contains($"Cannot serve the status page on 127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}", StringComparison.Ordinal),
            "the daemon says why it serves no page");
        Assert.That((await Sandbox.ListAsync())["web"].Status, Is.EqualTo("running"), "the daemon still answers and its service runs");
        squatter.Stop();
    }
}
