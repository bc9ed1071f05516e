using System.Text.RegularExpressions;
using GitProc.Delivery;
using GitProc.Health;
using GitProc.Reconciliation;
using GitProc.State;
using GitProc.Supervision;
using GitProc.Web;

namespace GitProc.Core.Tests.Web;

/// <summary>The status page's HTML: everything from outside escaped, only the page's own script and style.</summary>
public sealed partial class WebPagesTests
{
    private const string Hostile = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>";
    private const string Nonce = "bm9uY2U=";
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static ServiceSnapshot Service(string name) => new()
    {
        Name = name,
        Status = ServiceStatus.Running,
        SubState = "running " + Hostile,
        Description = Hostile,
        Pid = 4242,
        StartTime = Now - TimeSpan.FromMinutes(3) - TimeSpan.FromSeconds(7),
        RestartCount = 2,
        FailureReason = Hostile,
        LastExit = Hostile,
        Health = new HealthReport { Service = name, State = HealthState.Unhealthy, LastError = Hostile },
        MemoryBytes = 3 * 1024 * 1024,
        CpuPercent = 12.345,
        StateError = Hostile,
    };

    [Test]
    public void The_front_page_escapes_names_commit_subjects_errors_and_history()
    {
        var record = new DeliveryRecord
        {
            Commit = "0123456789abcdef0123456789abcdef01234567",
            Subject = Hostile,
            Result = DeliveryResult.RolledBack,
            Started = [Hostile],
            Errors = [Hostile],
            RollbackReason = Hostile,
            RestoredCommit = "fedcba9876543210fedcba9876543210fedcba98",
        };
        var reconciler = new ReconcilerStatus("main", record.RestoredCommit, new RejectedCommit(record.Commit, "web.service", 3, Hostile, Now))
        {
            GitError = Hostile,
            LastRollback = record,
        };

        var html = WebPages.Index([Service(Hostile)], reconciler, record, [record], Now, Nonce);

        AssertNothingInjected(html);
        Assert.That(html, Does.Contain("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&lt;img src=x onerror=alert(2)&gt;"));
        Assert.That(html, Does.Contain("<a href=\"/services/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%27%26%3Cimg%20src%3Dx%20onerror%3Dalert%282%29%3E\">"),
            "the link's name is percent-encoded, then escaped");
        Assert.That(html, Does.Contain("<code>0123456</code>"), "the rejected and rolled-back commit, short");
        Assert.That(html, Does.Contain("<td data-field=\"pid\" class=\"num\">4242</td><td class=\"num\">3m 07s</td>"));
        Assert.That(html, Does.Contain("3.0 MiB").And.Contain("12.3%"));
        Assert.That(html, Does.Contain("rolled back"));
    }

    [Test]
    public void A_service_page_escapes_its_log_lines_and_links_its_stream()
    {
        string[] lines = ["[2026-03-01 12:00:00] " + Hostile, "</div></div><script>alert(3)</script>", "plain & simple"];

        var html = WebPages.Service(Service("web"), lines, 200, Now, Nonce);

        AssertNothingInjected(html);
        Assert.That(html, Does.Contain("<div>&lt;/div&gt;&lt;/div&gt;&lt;script&gt;alert(3)&lt;/script&gt;</div><div>plain &amp; simple</div></div>"));
        Assert.That(html, Does.Contain("data-stream=\"/services/web/logs/stream?tail=200\""));
        Assert.That(html, Does.Contain("data-events=\"/events/stream?service=web\""));
        Assert.That(html, Does.Contain("(last 3 lines)"));
    }

    [Test]
    public void Pages_refresh_themselves_only_without_JavaScript()
    {
        var html = WebPages.Index([], null, null, [], Now, Nonce);
        Assert.That(html, Does.Contain($"<noscript><meta http-equiv=\"refresh\" content=\"{WebPages.RefreshSeconds}\"></noscript>"));
        Assert.That(html, Does.Contain("No services.").And.Contain("No commits seen yet.").And.Contain("not from Git"));
    }

    [TestCase(0, "0s")]
    [TestCase(59, "59s")]
    [TestCase(61, "1m 01s")]
    [TestCase(3600 + 5 * 60, "1h 05m")]
    [TestCase(3 * 86400 + 4 * 3600, "3d 4h")]
    public void Uptime_is_short_and_readable(int seconds, string expected) =>
        Assert.That(WebPages.Uptime(Service("web") with { StartTime = Now - TimeSpan.FromSeconds(seconds) }, Now), Is.EqualTo(expected));

    [Test]
    public void A_stopped_service_has_no_uptime() =>
        Assert.That(WebPages.Uptime(Service("web") with { Status = ServiceStatus.Stopped }, Now), Is.EqualTo("-"));

    /// <summary>The only script and style elements are the page's own, with its nonce, and no raw hostile markup got through.</summary>
    private static void AssertNothingInjected(string html)
    {
        Assert.That(ScriptTag().Matches(html).Select(m => m.Value), Is.EqualTo(new[] { $"<script nonce=\"{Nonce}\">" }), html);
        Assert.That(StyleTag().Matches(html).Select(m => m.Value), Is.EqualTo(new[] { $"<style nonce=\"{Nonce}\">" }), html);
        Assert.That(html, Does.Not.Contain("<img"));
        Assert.That(html, Does.Not.Contain("alert(1)</script>"));
    }

    [GeneratedRegex("<script[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("<style[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex StyleTag();
}
