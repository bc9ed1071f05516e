using System.Globalization;
using System.Net;
using System.Text;
using GitProc.Delivery;
using GitProc.Git;
using GitProc.Ipc;
using GitProc.Reconciliation;
using GitProc.Supervision;

namespace GitProc.Web;

/// <summary>
/// The status page's HTML, rendered on the server from what <c>gitproc status</c> and <c>history</c> show. Every text
/// that comes from outside (service names and descriptions, commit subjects, errors, log lines) goes through
/// <see cref="Encode"/>; the page works without JavaScript, and its one small inline script (allowed by the
/// page's nonce, nothing else is) only follows the log and the services' states live.
/// </summary>
internal static class WebPages
{
    /// <summary>How many history records the front page lists.</summary>
    internal const int HistoryRecords = 10;

    /// <summary>How often a page reloads itself when JavaScript is off (with it on, the event streams update it).</summary>
    internal const int RefreshSeconds = 10;

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
        h1{font-size:1.4em;margin:0 0 .6em}h2{font-size:1.1em;margin:1.4em 0 .5em}
        table{border-collapse:collapse;background:#fff}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
        th{background:#eee}td.num{text-align:right;font-variant-numeric:tabular-nums}
        .running{color:#1a7f37;font-weight:600}.failed{color:#cf222e;font-weight:600}.stopped{color:#6e7781;font-weight:600}
        .bad{color:#cf222e}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:0}dt{color:#555}dd{margin:0}
        .log{font:12px/1.35 ui-monospace,monospace;white-space:pre-wrap;word-break:break-all;background:#111;color:#ddd;padding:.6em;max-height:70vh;overflow:auto}
        .muted{color:#6e7781}a{color:#0969da}
        """;

    // Follows the log (the stream first resends the tail, so a reconnect leaves no gap) and the services' states.
    // Text only ever goes in through textContent; names are compared, never put into a selector.
    private const string Script = """
        (function () {
          var live = document.getElementById('live');
          function say(t) { if (live) { live.textContent = t; } }
          var log = document.getElementById('log');
          if (log) {
            var max = +log.getAttribute('data-lines') || 200;
            var logs = new EventSource(log.getAttribute('data-stream'));
            var fresh = true;
            logs.onopen = function () { fresh = true; say('Following the log live.'); };
            logs.onerror = function () { say('The log stream was interrupted; reconnecting…'); };
            logs.onmessage = function (e) {
              if (fresh) { log.textContent = ''; fresh = false; }
              var end = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
              var line = document.createElement('div');
              line.textContent = e.data;
              log.appendChild(line);
              while (log.childElementCount > max) { log.removeChild(log.firstElementChild); }
              if (end) { log.scrollTop = log.scrollHeight; }
            };
          }
          var source = document.body.getAttribute('data-events');
          if (!source) { return; }
          var events = new EventSource(source);
          events.onmessage = function (e) {
            var ev = JSON.parse(e.data);
            if (ev.type.indexOf('commit.') === 0 && document.body.getAttribute('data-page') === 'index') { location.reload(); return; }
            var rows = document.querySelectorAll('[data-service]');
            for (var i = 0; i < rows.length; i++) {
              if (rows[i].getAttribute('data-service') !== ev.service) { continue; }
              if (ev.type === 'service.state') {
                set(rows[i], 'state', ev.to, ev.to);
                set(rows[i], 'sub-state', ev.to_sub_state);
                set(rows[i], 'pid', ev.pid == null ? '-' : String(ev.pid));
                if (ev.restart_count != null) { set(rows[i], 'restarts', String(ev.restart_count)); }
              } else if (ev.type === 'health.changed') {
                set(rows[i], 'health', ev.to);
              }
            }
          };
          function set(row, field, value, cls) {
            var cell = row.querySelector('[data-field="' + field + '"]');
            if (cell && value != null) { cell.textContent = value; if (cls) { cell.className = cls; } }
          }
        })();
        """;

    /// <summary>Escapes text for an HTML element or a double-quoted attribute.</summary>
    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>The path of a service's page.</summary>
    public static string ServicePath(string name) => "/services/" + Uri.EscapeDataString(name);

    /// <summary>The front page: the daemon's commits, every service, the last delivery records.</summary>
    public static string Index(
        IReadOnlyList<ServiceSnapshot> services, ReconcilerStatus? reconciler, DeliveryRecord? applied, IReadOnlyList<DeliveryRecord> history,
        DateTimeOffset now, string nonce)
    {
        var html = Begin("GitProc", nonce, "index", "/events/stream");
        html.Append("<h1>GitProc</h1>\n");
        AppendDaemon(html, services, reconciler, applied);

        html.Append("<h2>Services</h2>\n");
        if (services.Count == 0)
        {
            html.Append("<p class=\"muted\">No services.</p>\n");
        }
        else
        {
            html.Append("<table id=\"services\"><thead><tr><th>Service</th><th>State</th><th>Sub-state</th><th>PID</th><th>Uptime</th>"
                + "<th>Restarts</th><th>Health</th><th>Memory</th><th>CPU</th></tr></thead><tbody>\n");
            foreach (var s in services)
            {
                var state = IpcCommandHandler.ToText(s.Status);
                html.Append(C, $"<tr data-service=\"{Encode(s.Name)}\"><td><a href=\"{Encode(ServicePath(s.Name))}\">{Encode(s.Name)}</a></td>")
                    .Append(C, $"<td data-field=\"state\" class=\"{state}\">{state}</td><td data-field=\"sub-state\">{Encode(s.SubState)}</td>")
                    .Append(C, $"<td data-field=\"pid\" class=\"num\">{Pid(s)}</td><td class=\"num\">{Encode(Uptime(s, now))}</td>")
                    .Append(C, $"<td data-field=\"restarts\" class=\"num\">{s.RestartCount}</td><td data-field=\"health\">{Encode(s.Health?.State.ToString().ToLowerInvariant() ?? "-")}</td>")
                    .Append(C, $"<td class=\"num\">{Memory(s.MemoryBytes)}</td><td class=\"num\">{Cpu(s.CpuPercent)}</td></tr>\n");
            }

            html.Append("</tbody></table>\n");
        }

        AppendHistory(html, history);
        return End(html, now, nonce);
    }

    /// <summary>One service: its status, as <c>gitproc status NAME</c> shows it, and the last lines of its log.</summary>
    public static string Service(ServiceSnapshot s, IReadOnlyList<string> lines, int logLines, DateTimeOffset now, string nonce)
    {
        var streamPath = ServicePath(s.Name) + "/logs/stream?tail=" + logLines.ToString(C);
        var html = Begin(s.Name + " · GitProc", nonce, "service", "/events/stream?service=" + Uri.EscapeDataString(s.Name));
        html.Append("<p><a href=\"/\">← All services</a></p>\n");
        html.Append(C, $"<h1>{Encode(s.Name)}</h1>\n");
        var state = IpcCommandHandler.ToText(s.Status);
        html.Append(C, $"<dl id=\"status\" data-service=\"{Encode(s.Name)}\">\n");
        Row(html, "Status", $"<span data-field=\"state\" class=\"{state}\">{state}</span> (<span data-field=\"sub-state\">{Encode(s.SubState)}</span>)");
        if (!string.IsNullOrEmpty(s.Description))
        {
            Row(html, "Description", Encode(s.Description));
        }

        Row(html, "PID", $"<span data-field=\"pid\">{Pid(s)}</span>");
        if (s.StartTime is { } started)
        {
            Row(html, "Started", Encode(LocalTime(started)));
            Row(html, "Uptime", Encode(Uptime(s, now)));
        }

        Row(html, "Restarts", $"<span data-field=\"restarts\">{s.RestartCount.ToString(C)}</span>");
        if (s.LastExitCode is { } code)
        {
            Row(html, "Last exit code", code.ToString(C));
        }

        OptionalRow(html, "Condition", s.UnmetCondition);
        OptionalRow(html, "Last exit", s.LastExit);
        OptionalRow(html, "Failure", s.FailureReason, bad: true);
        if (s.ManuallyStopped)
        {
            Row(html, "Manually stopped", "yes");
        }

        if (s.Health is { } health)
        {
            Row(html, "Health", $"<span data-field=\"health\">{Encode(health.State.ToString().ToLowerInvariant())}</span>"
                + (health.LastError is { } error ? $" <span class=\"bad\">(last error: {Encode(error)})</span>" : ""));
        }

        if (s.MemoryBytes is not null)
        {
            Row(html, "Memory", Memory(s.MemoryBytes));
        }

        if (s.CpuPercent is not null)
        {
            Row(html, "CPU", Cpu(s.CpuPercent));
        }

        if (s.TaskCount is { } tasks)
        {
            Row(html, "Tasks", tasks.ToString(C));
        }

        Row(html, "Limits", s.LimitsEnforced ? "enforced (cgroup)" : Encode(s.LimitsNote ?? "none"));
        OptionalRow(html, "State error", s.StateError, bad: true);
        html.Append("</dl>\n");

        html.Append(C, $"<h2>Log <span class=\"muted\">(last {lines.Count} lines)</span></h2>\n");
        html.Append(C, $"<div id=\"log\" class=\"log\" data-stream=\"{Encode(streamPath)}\" data-lines=\"{logLines}\">");
        foreach (var line in lines)
        {
            html.Append("<div>").Append(Encode(line)).Append("</div>");
        }

        html.Append("</div>\n<p id=\"live\" class=\"muted\">Shown as of the time below; with JavaScript on, new lines follow live.</p>\n");
        return End(html, now, nonce);
    }

    /// <summary>A page saying what was not found.</summary>
    public static string NotFound(string message, DateTimeOffset now, string nonce)
    {
        var html = Begin("Not found · GitProc", nonce, "error", null);
        html.Append(C, $"<h1>Not found</h1>\n<p>{Encode(message)}</p>\n<p><a href=\"/\">All services</a></p>\n");
        return End(html, now, nonce);
    }

    private static StringBuilder Begin(string title, string nonce, string page, string? events)
    {
        var html = new StringBuilder(8192);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append(C, $"<noscript><meta http-equiv=\"refresh\" content=\"{RefreshSeconds}\"></noscript>\n")
            .Append(C, $"<title>{Encode(title)}</title>\n<style nonce=\"{nonce}\">{Style}</style></head>\n")
            .Append(C, $"<body data-page=\"{page}\"")
            .Append(events is null ? "" : $" data-events=\"{Encode(events)}\"")
            .Append(">\n");
        return html;
    }

    private static string End(StringBuilder html, DateTimeOffset now, string nonce)
    {
        html.Append(C, $"<p class=\"muted\" id=\"rendered\">Rendered {Encode(LocalTime(now))}. <a href=\"\">Refresh</a></p>\n");
        html.Append(C, $"<script nonce=\"{nonce}\">{Script}</script>\n</body></html>\n");
        return html.ToString();
    }

    private static void AppendDaemon(StringBuilder html, IReadOnlyList<ServiceSnapshot> services, ReconcilerStatus? reconciler, DeliveryRecord? applied)
    {
        html.Append("<dl id=\"daemon\">\n");
        if (reconciler is null)
        {
            Row(html, "Applied commit", "<span class=\"muted\">not from Git</span>");
        }
        else
        {
            Row(html, "Branch", Encode(reconciler.Branch));
            Row(html, "Applied commit", reconciler.AppliedCommit is { } commit
                ? $"<code>{Encode(CommitText.Short(commit))}</code>" + (applied?.Subject is { } subject ? " " + Encode(subject) : "")
                : "<span class=\"muted\">none</span>");
            if (reconciler.VerifyingCommit is { } verifying)
            {
                Row(html, "Verifying", $"<code>{Encode(CommitText.Short(verifying))}</code>"
                    + (reconciler.VerifyingUntil is { } until ? " until " + Encode(LocalTime(until)) : ""));
            }

            if (reconciler.LastRollback is { } rollback)
            {
                Row(html, "Rolled back", $"<code>{Encode(CommitText.Short(rollback.Commit))}</code> <span class=\"bad\">{Encode(rollback.RollbackReason)}</span>"
                    + (rollback.RestoredCommit is { } restored ? $"; running <code>{Encode(CommitText.Short(restored))}</code>" : ""));
            }

            if (reconciler.Rejected is { } rejected)
            {
                Row(html, "Rejected commit", $"<code>{Encode(CommitText.Short(rejected.Commit))}</code> <span class=\"bad\">{Encode(rejected.Reason)}</span>");
            }

            OptionalRow(html, "Git error", reconciler.GitError, bad: true);
        }

        // The state error concerns every service; each status carries it.
        OptionalRow(html, "State error", services.Count > 0 ? services[0].StateError : null, bad: true);
        html.Append("</dl>\n");
    }

    private static void AppendHistory(StringBuilder html, IReadOnlyList<DeliveryRecord> history)
    {
        html.Append("<h2>Recent deliveries</h2>\n");
        if (history.Count == 0)
        {
            html.Append("<p class=\"muted\">No commits seen yet.</p>\n");
            return;
        }

        html.Append("<table id=\"history\"><thead><tr><th>Commit</th><th>Received</th><th>Result</th><th>Subject</th><th>Changes</th></tr></thead><tbody>\n");
        foreach (var r in history.Take(HistoryRecords))
        {
            var changes = new List<string>();
            AddChange(changes, "started", r.Started);
            AddChange(changes, "restarted", r.Restarted);
            AddChange(changes, "stopped", r.Stopped);
            var why = r.RollbackReason is { } reason ? [reason, .. r.Errors] : r.Errors;
            html.Append(C, $"<tr><td><code>{Encode(CommitText.Short(r.Commit))}</code></td><td>{Encode(LocalTime(r.Received))}</td>")
                .Append(C, $"<td>{Encode(IpcCommandHandler.ToText(r.Result))}</td><td>{Encode(r.Subject)}</td><td>{Encode(string.Join("; ", changes))}");
            foreach (var error in why)
            {
                html.Append(C, $"<div class=\"bad\">{Encode(error)}</div>");
            }

            html.Append("</td></tr>\n");
        }

        html.Append("</tbody></table>\n");
    }

    private static void AddChange(List<string> changes, string verb, IReadOnlyList<string> services)
    {
        if (services.Count > 0)
        {
            changes.Add(verb + " " + string.Join(", ", services));
        }
    }

    private static void Row(StringBuilder html, string term, string definitionHtml) =>
        html.Append(C, $"<dt>{term}</dt><dd>{definitionHtml}</dd>\n");

    private static void OptionalRow(StringBuilder html, string term, string? text, bool bad = false)
    {
        if (!string.IsNullOrEmpty(text))
        {
            Row(html, term, bad ? $"<span class=\"bad\">{Encode(text)}</span>" : Encode(text));
        }
    }

    private static string Pid(ServiceSnapshot s) => s.Pid is { } pid ? pid.ToString(C) : "-";

    private static string LocalTime(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", C);

    /// <summary>How long the current process has run (<c>3d 4h</c>, <c>2h 05m</c>, <c>4m 10s</c>, <c>12s</c>); <c>-</c> when not running.</summary>
    internal static string Uptime(ServiceSnapshot s, DateTimeOffset now)
    {
        if (s.Status != State.ServiceStatus.Running || s.StartTime is not { } started)
        {
            return "-";
        }

        var up = now - started;
        if (up < TimeSpan.Zero)
        {
            up = TimeSpan.Zero;
        }

        return up.TotalDays >= 1 ? string.Create(C, $"{(int)up.TotalDays}d {up.Hours}h")
            : up.TotalHours >= 1 ? string.Create(C, $"{(int)up.TotalHours}h {up.Minutes:00}m")
            : up.TotalMinutes >= 1 ? string.Create(C, $"{(int)up.TotalMinutes}m {up.Seconds:00}s")
            : string.Create(C, $"{(int)up.TotalSeconds}s");
    }

    private static string Memory(long? bytes) => bytes is { } b ? string.Create(C, $"{b / (1024.0 * 1024.0):0.0} MiB") : "-";

    private static string Cpu(double? percent) => percent is { } p ? string.Create(C, $"{p:0.0}%") : "-";
}
