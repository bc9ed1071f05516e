using Microsoft.Extensions.Logging;

namespace GitProc.Daemon;

/// <summary>The daemon's start-up and in-place upgrade messages (event ids 11xx, shared with GitProc.Hosting's daemon).</summary>
internal static partial class Log
{
    [LoggerMessage(1110, LogLevel.Information, "Open files: soft limit {Soft}, hard limit {Hard}; the daemon runs with {Raised} and keeps {Reserve} in reserve for itself; services get {Services} unless their unit sets LimitNOFILE=")]
    public static partial void OpenFileLimit(ILogger logger, ulong soft, ulong hard, ulong raised, int reserve, string services);

    [LoggerMessage(1111, LogLevel.Debug, "Holding the state lock {LockPath}")]
    public static partial void StateLocked(ILogger logger, string lockPath);

    [LoggerMessage(1113, LogLevel.Warning, "In-place upgrade requested, but this daemon cannot re-execute itself (InPlaceUpgradeOptions.Executable is not set); nothing changes")]
    public static partial void UpgradeUnavailable(ILogger logger);

    [LoggerMessage(1114, LogLevel.Error, "In-place upgrade refused, nothing changed: {Reason}")]
    public static partial void UpgradeRefused(ILogger logger, string reason);

    [LoggerMessage(1115, LogLevel.Information, "In-place upgrade: re-executing {Executable}; every service keeps running")]
    public static partial void Reexecuting(ILogger logger, string executable);
}
