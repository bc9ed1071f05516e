using System.Globalization;
using GitProc.Cli.Commands;
using GitProc.Ipc;

namespace GitProc.Core.Tests.Cli;

/// <summary>The daemon line <c>status</c> ends with when a remote is set: the last fetch, its outcome or error, and the next.</summary>
[TestFixture]
public sealed class StatusLastFetchTests
{
    private static readonly DateTimeOffset Last = new(2026, 12, 1, 5, 31, 2, TimeSpan.Zero);
    private static readonly DateTimeOffset Next = Last.AddSeconds(8);

    private static readonly IpcStatusResult Running = new() { Service = "web", State = "running", Pid = 42 };

    [Test]
    public void Without_a_remote_status_prints_exactly_the_lines_it_printed_before()
    {
        Assert.That(Print(Running), Is.EqualTo(new[] { "Service: web", "Status: running", "PID: 42", "Restarts: 0" }));
    }

    [Test]
    public void A_good_fetch_shows_its_time_outcome_and_the_next_one_after_every_other_line()
    {
        var lines = Print(Running with { Remote = "https://git.example.com/units.git", LastFetch = Last, LastFetchOutcome = "fast_forwarded", FetchFailures = 0, NextFetch = Next });

        Assert.That(lines[..^1], Is.EqualTo(Print(Running)));
        Assert.That(lines[^1], Is.EqualTo($"Last Fetch: {Local(Last, "yyyy-MM-dd HH:mm:ss")} fast forwarded (next {Local(Next, "HH:mm:ss")})"));
    }

    [Test]
    public void Failed_fetches_show_the_attempt_count_the_next_attempt_and_the_error()
    {
        var lines = Print(Running with
        {
            Remote = "https://git.example.com/units.git",
            LastFetch = Last,
            LastFetchOutcome = "failed",
            LastFetchError = "fatal: Authentication failed\nfor it",
            FetchFailures = 3,
            NextFetch = Next,
        });

        Assert.That(lines[^1], Is.EqualTo(
            $"Last Fetch: {Local(Last, "yyyy-MM-dd HH:mm:ss")} failed, 3 in a row (next attempt {Local(Next, "HH:mm:ss")}): fatal: Authentication failed for it"));
    }

    [Test]
    public void Before_the_first_fetch_it_says_none_yet_and_a_forced_fetch_says_the_remote_rewrote_its_history()
    {
        Assert.That(Print(Running with { Remote = "ssh://git@h/u.git", FetchFailures = 0, NextFetch = Next })[^1], Is.EqualTo($"Last Fetch: none yet (next {Local(Next, "HH:mm:ss")})"));
        Assert.That(
            Print(Running with { Remote = "ssh://git@h/u.git", LastFetch = Last, LastFetchOutcome = "forced", FetchFailures = 0 })[^1],
            Is.EqualTo($"Last Fetch: {Local(Last, "yyyy-MM-dd HH:mm:ss")} forced (the remote rewrote its history; followed)"));
    }

    private static string[] Print(IpcStatusResult status)
    {
        var output = new StringWriter();
        StatusCommand.Print(output, status);
        return output.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
    }

    private static string Local(DateTimeOffset time, string format) => time.ToLocalTime().ToString(format, CultureInfo.InvariantCulture);
}
