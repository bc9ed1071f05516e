using System.Globalization;

namespace GitProc.Readiness;

/// <summary>
/// One datagram of the sd_notify(3) protocol: newline-separated <c>VARIABLE=VALUE</c> assignments. Only the
/// assignments GitProc acts on are kept; others (<c>FDSTORE=1</c>, <c>ERRNO=</c>, <c>MONOTONIC_USEC=</c>, …) are
/// ignored, as are malformed values, which sd_notify's readers also skip.
/// </summary>
internal sealed record NotifyMessage
{
    /// <summary><c>READY=1</c>: start-up (or a reload) is complete.</summary>
    public bool Ready { get; init; }

    /// <summary><c>STOPPING=1</c>: the service is shutting down.</summary>
    public bool Stopping { get; init; }

    /// <summary><c>RELOADING=1</c>: the service reloads its configuration; <c>READY=1</c> ends the reload.</summary>
    public bool Reloading { get; init; }

    /// <summary><c>STATUS=</c>: free text describing the service's state; empty clears it.</summary>
    public string? Status { get; init; }

    /// <summary><c>MAINPID=</c>: the service's main process is now this one.</summary>
    public int? MainPid { get; init; }

    /// <summary><c>EXTEND_TIMEOUT_USEC=</c>: the current start (or stop) may take this much longer from now.</summary>
    public TimeSpan? ExtendTimeout { get; init; }

    /// <summary><c>WATCHDOG=1</c>: the keep-alive ping.</summary>
    public bool WatchdogPing { get; init; }

    /// <summary><c>WATCHDOG=trigger</c>: act as if the watchdog had expired.</summary>
    public bool WatchdogTrigger { get; init; }

    /// <summary><c>WATCHDOG_USEC=</c>: a new watchdog interval from now on.</summary>
    public TimeSpan? WatchdogInterval { get; init; }

    /// <summary>The message had no assignment GitProc acts on.</summary>
    public bool IsEmpty => this == Nothing;

    private static readonly NotifyMessage Nothing = new();

    /// <summary>Reads a datagram's text; never throws.</summary>
    public static NotifyMessage Parse(ReadOnlySpan<char> text)
    {
        var message = Nothing;
        foreach (var range in text.Split('\n'))
        {
            var line = text[range];
            var equals = line.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }

            var value = line[(equals + 1)..];
            message = line[..equals] switch
            {
                "READY" when value is "1" => message with { Ready = true },
                "STOPPING" when value is "1" => message with { Stopping = true },
                "RELOADING" when value is "1" => message with { Reloading = true },
                "STATUS" => message with { Status = value.ToString() },
                "MAINPID" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 => message with { MainPid = pid },
                "EXTEND_TIMEOUT_USEC" when Microseconds(value) is { } extend => message with { ExtendTimeout = extend },
                "WATCHDOG" when value is "1" => message with { WatchdogPing = true },
                "WATCHDOG" when value is "trigger" => message with { WatchdogTrigger = true },
                "WATCHDOG_USEC" when Microseconds(value) is { } interval && interval > TimeSpan.Zero => message with { WatchdogInterval = interval },
                _ => message,
            };
        }

        return message;
    }

    private static TimeSpan? Microseconds(ReadOnlySpan<char> value) =>
        ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var usec)
            ? usec >= (ulong)(TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMicrosecond) ? TimeSpan.MaxValue : TimeSpan.FromMicroseconds(usec)
            : null;
}
